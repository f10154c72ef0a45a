"""How each migration format writes a new migration: file names, the files of one migration, how a
file is told to run outside a transaction, and how to rerun after a failure. `plan` and `fix` both
write through these; one module per format, listed in `WRITERS`.

    writer = WRITERS["dbmate"]
    files = writer.files(NewMigration(rel=writer.main_file("20240101120000", "add_index", "_"), ...))
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from .base import NewMigration, Writer

# Format → its module here. A module is imported when its writer is first asked for: a check
# reads one format's rerun advice (MS032's fix) without loading every writer.
_MODULES = {
    "sql": "plain", "flyway": "flyway", "golang-migrate": "golang_migrate", "dbmate": "dbmate", "diesel": "diesel",
    "goose": "goose", "sql-migrate": "sql_migrate", "atlas": "atlas", "prisma": "prisma", "supabase": "supabase",
    "drizzle": "drizzle", "node-pg-migrate": "node_pg_migrate", "sqitch": "sqitch", "liquibase": "liquibase",
}


class _Writers(Mapping):
    def __getitem__(self, fmt: str) -> Writer:
        module = _MODULES[fmt]
        return importlib.import_module(f"{__name__}.{module}").WRITER

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


WRITERS: Mapping[str, Writer] = _Writers()

__all__ = ["NewMigration", "Writer", "WRITERS"]
