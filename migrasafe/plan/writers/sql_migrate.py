"""sql-migrate: `<version>-<name>.sql` (or the history's own separator) with `-- +migrate Up` /
`-- +migrate Down`; `notransaction` after Up runs the file outside a transaction."""
from __future__ import annotations

import re

from .base import NewMigration, Writer

_UP = re.compile(r"^-- \+migrate Up\b([^\r\n]*)", re.M)


def main_file(version: str, slug: str, separator: str) -> str:
    """`sql-migrate new` writes `<version>-<name>.sql`; a history of `<version>_<name>.sql` gets
    its own separator (the layout reads it from the last file)."""
    return f"{version}{separator or '-'}{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    flag = "" if new.transactional else " notransaction"
    return [(new.rel, f"{new.header}-- +migrate Up{flag}\n{new.up}\n-- +migrate Down\n{new.down}")]


def opt_out(fixer, analysed) -> bool:
    from ..fix import Edit

    match = _UP.search(fixer.text)
    if match is None:
        fixer.note(analysed, "no '-- +migrate Up' line")
        return False
    if "notransaction" not in match.group(1).split():
        fixer.allow(match.start(), match.end())
        fixer.edits.append(Edit(match.end(1), match.end(1), " notransaction"))
    return True


def _numeric(version: str) -> int:
    digits = re.match(r"\d+", version)
    return int(digits.group(0)) if digits else -1


WRITER = Writer(
    format="sql-migrate", main_file=main_file, files=files, rerun="run `sql-migrate up` again",
    last_version=lambda versions: max(versions, key=_numeric), first_timestamp="%Y%m%d%H%M%S", opt_out=opt_out,
)
