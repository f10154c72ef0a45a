"""Drizzle Kit: NNNN_<name>.sql with `--> statement-breakpoint` between statements, and an entry in
meta/_journal.json, without which drizzle's migrator never runs the file."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .base import NewMigration, Writer

JOURNAL = Path("meta") / "_journal.json"


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    statements = [s for s in re.split(r"(?<=;)\n", new.up) if s.strip()]
    return [(new.rel, new.header + "\n--> statement-breakpoint\n".join(s.rstrip("\n") for s in statements) + "\n")]


def journal_with(text: str, tags: list[str], now_ms: int | None = None) -> str:
    """The journal's text with an entry appended for each new tag, in drizzle-kit's shape."""
    journal = json.loads(text)
    entries = journal.setdefault("entries", [])
    last = entries[-1] if entries else {}
    when = max(int(now_ms if now_ms is not None else time.time() * 1000), int(last.get("when", 0)) + 1)
    for tag in tags:
        entries.append({"idx": len(entries), "version": last.get("version", journal.get("version", "7")),
                        "when": when, "tag": tag, "breakpoints": True})
        when += 1
    indent = _indent(text)
    return json.dumps(journal, indent=indent) + ("\n" if text.endswith("\n") else "")


def _indent(text: str) -> str | int:
    match = re.search(r"\n([ \t]+)\"", text)
    if match is None:
        return 2
    return "\t" if match.group(1).startswith("\t") else len(match.group(1))


def list_new(layout, migrations, now) -> list[tuple[str, str, str]]:
    """`plan`: the journal, with an entry for each planned file."""
    text = (layout.root / JOURNAL).read_text(encoding="utf-8")
    now_ms = int(now.timestamp() * 1000) if now is not None else None
    return [(str(JOURNAL), text, journal_with(text, [Path(m.main).stem for m in migrations], now_ms))]


def add_to_history(fixer, groups) -> list | None:
    """`fix`: new migrations after the last one, each with its journal entry. drizzle orders by the
    journal, and a migration placed between two others would sort before applied ones, so a file
    that is not the journal's last is left alone with a note."""
    from ..fix import FileChange, _display, _migration_files
    from ..layout import Layout
    from ..sql import slug

    root = fixer.path.parent
    layout = Layout.of("drizzle", root)
    if not layout.entries or layout.entries[-1].file.resolve() != fixer.path.resolve():
        fixer.fixes.notes.append(
            f"{fixer.migration.path}: not fixed: only the journal's last migration gets a new one after it; move "
            "the statements that need their own migration by hand")
        return None
    versions = layout.versions(len(groups))
    changes, tags = [], []
    for version, (description, statements, down, transactional) in zip(versions, groups):
        rel = layout.main_file(version, slug(f"{fixer.migration.description}_{description}"))
        for rel_path, text in _migration_files("drizzle", rel, statements, down, transactional, fixer.timeout,
                                               fixer.migration.path):
            target = root / rel_path
            changes.append(FileChange(target, _display(fixer.migration.path, target), "", text, new=True))
        tags.append(Path(rel).stem)
    journal = root / JOURNAL
    before = journal.read_text(encoding="utf-8")
    changes.append(FileChange(journal, _display(fixer.migration.path, journal), before, journal_with(before, tags)))
    return changes


WRITER = Writer(
    format="drizzle", main_file=main_file, files=files,
    rerun="drizzle rolled the whole run back: run the migrator again",
    default_width=4,
    never_outside=("drizzle's migrator runs every pending migration in one transaction and a migration cannot "
                   "opt out: CONCURRENTLY cannot run from a drizzle migration. Run the statement outside the "
                   "migrator (psql) before the deploy, or end drizzle's transaction with `COMMIT;--> "
                   "statement-breakpoint` before it, knowing that every later statement of the run then "
                   "commits on its own"),
    add_to_history=add_to_history, list_new=list_new,
)
