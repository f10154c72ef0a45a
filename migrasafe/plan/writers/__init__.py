"""How each migration format writes a new migration: file names, the files of one migration, how a
file is told to run outside a transaction, and how to rerun after a failure. `plan` and `fix` both
write through these; one module per format, listed in `WRITERS`.

    writer = WRITERS["dbmate"]
    files = writer.files(NewMigration(rel=writer.main_file("20240101120000", "add_index", "_"), ...))
"""
from __future__ import annotations

from .base import NewMigration, Writer
from . import dbmate, diesel, flyway, golang_migrate, goose, plain, sql_migrate
from . import atlas
from . import drizzle, node_pg_migrate, prisma, supabase
from . import liquibase, sqitch

WRITERS: dict[str, Writer] = {
    w.format: w for w in (
        plain.WRITER, flyway.WRITER, golang_migrate.WRITER, dbmate.WRITER, diesel.WRITER, goose.WRITER,
        sql_migrate.WRITER,
        atlas.WRITER,
        prisma.WRITER, supabase.WRITER, drizzle.WRITER, node_pg_migrate.WRITER,
        sqitch.WRITER, liquibase.WRITER,
    )
}

__all__ = ["NewMigration", "Writer", "WRITERS"]
