"""Which tool a folder of migrations is written for, from file names (and dbmate's markers)."""
from __future__ import annotations

from pathlib import Path

from . import dbmate, diesel, flyway, golang_migrate, popx
from .listing import files_in, subfolders

# Reading a whole file is not needed to spot a template or a dbmate marker near the top.
_SNIFF_BYTES = 64 * 1024


def detect_format(folder: Path) -> str | None:
    """The format of the migrations directly in `folder`, or None when it holds none."""
    names = [p.name for p in files_in(folder)]
    if any(flyway.parse_name(n) for n in names):
        return "flyway"
    if any(diesel.is_migration_folder(sub) for sub in subfolders(folder)):
        return "diesel"
    up_down = [n for n in names if golang_migrate.FILE_NAME.match(n) or popx.FILE_NAME.match(n)]
    if up_down:
        if any(popx.has_dialect_marker(n) for n in up_down):
            return "popx"
        # Go templates are a popx (pop) feature; golang-migrate sends them to the server as is.
        if any("{{" in _sniff(folder / n) for n in up_down):
            return "popx"
        return "golang-migrate"
    if not names:
        return None
    if any(dbmate.FILE_NAME.match(n) and dbmate.has_up_directive(_sniff(folder / n)) for n in names):
        return "dbmate"
    return "sql"


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return ""
    return head.decode("utf-8", errors="replace")
