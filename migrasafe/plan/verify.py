"""Planned files are checked by `migrasafe check` itself before they are written: in a copy of
the folder, after the history they continue."""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from ..history.ids import HISTORY_RULES
from ..model import Finding
from .errors import PlanError
from .layout import Layout

IGNORED = shutil.ignore_patterns(".git", "node_modules", "__pycache__")


def check_in_copy(folder: Path, fmt: str, config, files: list[tuple[str, str]], mains: list[str],
                  display: str) -> list[Finding]:
    """Findings of `migrasafe check` on the planned files, as if they were in `folder`."""
    from ..check import run

    with tempfile.TemporaryDirectory(prefix="migrasafe-plan-") as scratch:
        copy = Path(scratch) / (folder.resolve().name or "migrations")
        shutil.copytree(folder, copy, symlinks=True, ignore=IGNORED)
        copy = copy.resolve()
        for rel, text in files:
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if fmt not in ("alembic", "django"):  # these order migrations by their dependencies, not by name
            _check_order(copy, fmt, mains)
        settings = dataclasses.replace(config, format=fmt if fmt not in ("alembic", "django") else None,
                                       baseline=None)
        report = run([str(copy)], settings)
        planned = {str(copy / rel) for rel in mains}
        # The history's own integrity (a file its journal does not list, migrasafe/history) is the
        # folder's, not the plan's: it blocks only when it is about a planned file.
        found = [f for f in report.findings if f.severity != "info" and f.rule not in HISTORY_RULES]
        for result in report.results:
            if result.migration.meta.get("file") in planned or result.migration.path in planned:
                found.extend(result.all_findings())
        prefix = str(copy)
        for finding in found:
            if finding.path.startswith(prefix):
                finding.path = display.rstrip("/") + finding.path[len(prefix):]
        return found


def _check_order(copy: Path, fmt: str, mains: list[str]) -> None:
    """The tool must run the planned files last, in the plan's order."""
    entries = Layout.of(fmt, copy).entries
    names = [str(e.file) for e in entries]
    expected = [str((copy / rel).resolve()) for rel in mains]
    if names[-len(expected):] != expected:
        raise PlanError("the new migration versions would not run after the existing ones in this folder; "
                        "its version numbering could not be continued")
