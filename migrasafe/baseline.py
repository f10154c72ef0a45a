"""Baselines: adopt migrasafe on a project whose existing migrations already have findings.

`migrasafe baseline PATH...` records the current findings in a JSON file kept in the
repository; `migrasafe check --baseline FILE` (or `baseline = "FILE"` in the configuration)
then reports only findings that are not in it. An entry is matched by file, rule and the
statement's text, not by line, so editing above a recorded statement does not resurface it.
Entries that no longer match anything are reported (MS094) so the file shrinks as problems
are fixed instead of silently hiding the next finding of the same kind.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from .model import Finding, MigrationResult, Report
from .report.located import located_in, statement_digest
from .verdict import reported

FORMAT_VERSION = 1
# Input errors stay visible: they mean the check itself is incomplete, not a known risk.
NOT_RECORDED = {"MS000", "MS099", "MS094"}
STALE_RULE = "MS094"


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the message names it."""


def write_baseline(report: Report, path: Path) -> int:
    """Record the reported findings; returns how many."""
    folder = path.resolve().parent
    entries = []
    for result in reported(report):
        for item in located_in(result):
            finding = item.finding
            if finding.rule in NOT_RECORDED:
                continue
            entries.append({
                "path": relative_to(finding.path, folder),
                "rule": finding.rule,
                "name": finding.name,
                "statement": statement_digest(item.statement, finding),
                "line": finding.line,
                "message": finding.message,
            })
    entries.sort(key=lambda e: (e["path"], e["line"], e["rule"], e["statement"]))
    document = {"tool": "migrasafe", "baseline_format": FORMAT_VERSION, "findings": entries}
    try:
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise BaselineError(f"cannot write baseline {path}: {err.strerror or err}") from None
    return len(entries)


def read_baseline(path: Path) -> list[dict]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} not found (`migrasafe baseline PATH...` writes it)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BaselineError(f"cannot read baseline {path}: {err}") from None
    except ValueError as err:
        raise BaselineError(f"baseline {path} is not valid JSON: {err}") from None
    if not isinstance(document, dict) or document.get("tool") != "migrasafe" or not isinstance(
        document.get("findings"), list
    ):
        raise BaselineError(f"baseline {path} is not a migrasafe baseline (no \"findings\" list)")
    entries = document["findings"]
    keys = ("path", "rule", "statement")
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in keys):
            raise BaselineError(f"baseline {path}: entry {n + 1} lacks path, rule or statement")
    return entries


def apply_baseline(report: Report, path: Path, display: str | None = None, selection=None) -> int:
    """Drop findings the baseline records and report its stale entries; returns how many dropped.

    `selection` (an analyse.RuleSelection) applies --ignore and severity overrides to MS094.
    """
    entries = read_baseline(path)
    folder = path.resolve().parent
    waiting: dict[tuple, list[dict]] = defaultdict(list)
    for entry in entries:
        waiting[(entry["path"], entry["rule"], entry["statement"])].append(entry)
    dropped = 0
    analysed_files: set[str] = set()
    # Context migrations too: their findings are hidden anyway, and matching them keeps their
    # entries from looking stale when only part of the history is reported.
    for result in report.results:
        analysed_files.add(relative_to(result.migration.path, folder))
        matched: set[int] = set()
        for item in located_in(result):
            finding = item.finding
            key = (relative_to(finding.path, folder), finding.rule, statement_digest(item.statement, finding))
            analysed_files.add(key[0])
            if waiting.get(key):
                waiting[key].pop()
                matched.add(id(finding))
        if matched:
            dropped += len(matched)
            remove(result, matched)
    for entry in (e for left in waiting.values() for e in left):
        if entry["path"] in analysed_files or not (folder / entry["path"]).exists():
            finding = stale_finding(entry, display or str(path), selection)
            if finding is not None:
                report.findings.append(finding)
    return dropped


def remove(result: MigrationResult, ids: set[int]) -> None:
    result.findings = [f for f in result.findings if id(f) not in ids]
    for analysed in result.statements:
        analysed.findings = [f for f in analysed.findings if id(f) not in ids]


def stale_finding(entry: dict, baseline: str, selection) -> Finding | None:
    from .analyse import make_finding

    where = f"{entry['path']}"
    if isinstance(entry.get("line"), int) and entry["line"] > 0:
        where += f" (line {entry['line']} when recorded)"
    return make_finding(
        STALE_RULE, f"baseline entry {entry['rule']} for {where} matches no finding any more",
        path=baseline, line=0, selection=selection,
        fix="migrasafe baseline PATH...  # rewrite the baseline from the current findings",
    )


def relative_to(path: str, folder: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), folder)).as_posix()
