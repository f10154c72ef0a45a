"""Flyway: V<version>__<description>.sql, with a .conf beside a script that must not be wrapped."""
from __future__ import annotations

from ...sources.versions import flyway_version_key
from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"V{version}__{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    out = [(new.rel, new.header + new.up)]
    if not new.transactional and not new.alone:
        # A lone CONCURRENTLY needs no .conf (Flyway runs it outside a transaction by itself); a
        # COMMIT inside a DO block does.
        out.append((new.rel + ".conf", "# COMMIT inside the DO block needs the script to run outside a "
                                       "transaction.\nexecuteInTransaction=false\n"))
    return out


WRITER = Writer(
    format="flyway", main_file=main_file, files=files, rerun="run `flyway migrate` again",
    rerun_outside="Flyway records the failure: `flyway repair`, then `flyway migrate`",
    last_version=lambda versions: max(versions, key=flyway_version_key),
    # Flyway runs a script holding only CONCURRENTLY outside a transaction by itself.
    opt_out=lambda fixer, analysed: True,
)
