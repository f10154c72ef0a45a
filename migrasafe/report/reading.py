"""What the text report says about the reading itself: the histories found, in which layout, and
the files in their folders that were not read."""
from __future__ import annotations

import os
from collections import Counter

from ..model import Report
from ..verdict import reported

SHOWN_REASONS = 3


def reading_lines(report: Report) -> list[str]:
    out = []
    histories: dict[str, list] = {}
    for result in reported(report):
        migration = result.migration
        key = migration.meta.get("history") or migration.path
        entry = histories.setdefault(key, [migration.format, 0, []])
        entry[1] += 1
        entry[2].append(os.path.dirname(migration.path) or ".")
    if histories:
        parts = [f"{_folder(dirs)} ({fmt}, {count} {'migration' if count == 1 else 'migrations'})"
                 for fmt, count, dirs in histories.values()]
        label = "history" if len(parts) == 1 else "histories"
        out.append(f"read {len(parts)} {label}: {', '.join(parts)}")
    if report.skipped:
        reasons = Counter(report.skipped.values()).most_common()
        shown = "; ".join(f"{reason} ({n})" for reason, n in reasons[:SHOWN_REASONS])
        more = f"; {len(reasons) - SHOWN_REASONS} other reasons" if len(reasons) > SHOWN_REASONS else ""
        total = len(report.skipped)
        out.append(f"not read: {total} {_files(total)} in migration folders — {shown}{more};"
                   " --format json lists them under skipped")
    return out


def _folder(dirs: list[str]) -> str:
    try:
        return os.path.commonpath(dirs) or "."
    except ValueError:  # absolute and relative paths mixed
        return dirs[0]


def _files(n: int) -> str:
    return "file" if n == 1 else "files"
