"""Tools that run what a journal or plan lists: an entry without its file, a file without an entry.

- Drizzle Kit: the migrator reads `<tag>.sql` for every entry of `meta/_journal.json` and stops
  when one is missing ("No file … found in … folder", drizzle-orm `migrator.ts`,
  `readMigrationFiles`); a `.sql` file the journal does not list is never run.
- sqitch: a plan line whose deploy script does not exist stops `sqitch deploy` there.
The readers (sources/drizzle.py, sources/sqitch.py) list both; this turns them into findings.
"""
from __future__ import annotations

import json
import os

from ..sources import Listed
from ..sources.build import display_path
from .found import Found
from .ids import FILE_NOT_LISTED, LISTED_FILE_MISSING


def missing_files(listed: list[Listed]) -> list[Found]:
    out: list[Found] = []
    for item in listed:
        history = item.history
        for missing in history.missing:
            listing = history.root / missing.rel
            if history.format == "drizzle":
                line = _line_of_tag(listing, missing.name)
                message = (f"drizzle's migrator stops: the journal lists {missing.name}, but {missing.expected} is "
                           f"not in the folder")
                fix = f"restore {missing.expected}, or remove its entry with `drizzle-kit drop`"
            else:
                line = missing.line
                message = (f"sqitch deploy stops at {missing.name}: its deploy script {missing.expected} does not "
                           f"exist")
                fix = (f"add {missing.expected} (`sqitch add {missing.name}` writes its deploy, revert and verify "
                       f"scripts), or remove the plan line")
            out.append(Found(LISTED_FILE_MISSING, listing, line, message, fix,
                             display=display_path(item.display_root, missing.rel),
                             involves=(history.root / missing.expected,)))
    return out


def unlisted_files(listed: list[Listed]) -> list[Found]:
    out: list[Found] = []
    for item in (i for i in listed if i.history.format == "drizzle"):
        from ..sources.drizzle import NOT_IN_JOURNAL  # the reader, only for a drizzle history

        history = item.history
        for file, why in sorted(history.skipped.items()):
            if why != NOT_IN_JOURNAL:
                continue
            rel = os.path.relpath(file, history.root)
            out.append(Found(
                FILE_NOT_LISTED, file, 1,
                f"{rel} is not in meta/_journal.json: drizzle's migrator never runs it",
                "generate migrations with `drizzle-kit generate`, which writes the journal entry (for hand-written "
                "SQL, `drizzle-kit generate --custom --name <name>` and move the SQL into the file it writes); "
                "or delete the file",
                display=display_path(item.display_root, rel), involves=(history.root / "meta" / "_journal.json",)))
    return out


def _line_of_tag(journal, tag: str) -> int:
    try:
        text = journal.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 1
    needle = json.dumps(tag)
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
