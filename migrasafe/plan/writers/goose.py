"""goose: `<version>_<name>.sql` with `-- +goose Up` / `-- +goose Down`; `-- +goose NO TRANSACTION`
runs the file outside a transaction."""
from __future__ import annotations

from .base import NewMigration, Writer

NO_TRANSACTION = "-- +goose NO TRANSACTION"


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    opt_out = "" if new.transactional else NO_TRANSACTION + "\n"
    return [(new.rel, f"{new.header}{opt_out}-- +goose Up\n{new.up}\n-- +goose Down\n{new.down}")]


def opt_out(fixer, analysed) -> bool:
    """The annotation may stand anywhere in the file: put it on its own line at the top."""
    from ..fix import Edit

    fixer.allow(0, 0)
    fixer.edits.append(Edit(0, 0, NO_TRANSACTION + fixer.newline))
    return True


WRITER = Writer(
    format="goose", main_file=main_file, files=files, rerun="run `goose up` again",
    last_version=lambda versions: max(versions, key=int), first_timestamp="%Y%m%d%H%M%S", opt_out=opt_out,
)
