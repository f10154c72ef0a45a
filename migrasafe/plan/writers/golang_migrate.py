"""golang-migrate: <version>_<name>.up.sql and .down.sql."""
from __future__ import annotations

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.up.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    down = new.rel[: -len(".up.sql")] + ".down.sql"
    return [(new.rel, new.header + new.up), (down, f"-- Reverts {new.rel}.\n" + new.down)]


WRITER = Writer(
    format="golang-migrate", main_file=main_file, files=files,
    rerun="golang-migrate marks the version dirty: `migrate force {previous}`, then `migrate up`",
    last_version=lambda versions: max(versions, key=int), default_width=6,
    # golang-migrate never wraps a file: a one-statement file already runs outside a transaction.
    opt_out=lambda fixer, analysed: True,
)
