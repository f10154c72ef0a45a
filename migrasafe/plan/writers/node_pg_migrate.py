"""node-pg-migrate SQL migrations: <timestamp>_<name>.sql with `-- Up Migration` / `-- Down Migration`."""
from __future__ import annotations

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    return [(new.rel, f"-- Up Migration\n{new.header}{new.up}\n-- Down Migration\n{new.down}")]


WRITER = Writer(
    format="node-pg-migrate", main_file=main_file, files=files,
    rerun="the run rolled back as a whole: run `node-pg-migrate up` again",
    never_outside=("node-pg-migrate runs an SQL migration inside a transaction (all pending ones in one by "
                   "default) and an SQL file cannot opt out: only a JavaScript or TypeScript migration can call "
                   "pgm.noTransaction(); write this statement in one, with pgm.noTransaction() and pgm.sql(...)"),
)
