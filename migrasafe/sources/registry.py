"""Every source format this package reads, in the order detection asks them about a folder.

A format whose marker files or annotations are specific comes before one recognised by file names
alone, and plain SQL, which claims any folder of `.sql` files, comes last.
"""
from __future__ import annotations

from . import dbmate, diesel, flyway, golang_migrate, goose, plain, popx, sql_migrate
from . import liquibase, sqitch
from . import atlas
from . import versioned_folders
from . import drizzle, graphile, node_pg_migrate, prisma, supabase
from .formats import SourceFormat

DETECTION_ORDER: tuple[SourceFormat, ...] = (
    # atlas.sum marks a directory whose files may be in goose, Flyway or golang-migrate format.
    atlas.FORMAT,
    sqitch.FORMAT,
    liquibase.FORMAT,
    goose.FORMAT,
    sql_migrate.FORMAT,
    prisma.FORMAT,
    drizzle.FORMAT,
    supabase.FORMAT,
    graphile.FORMAT,
    node_pg_migrate.FORMAT,
    flyway.FORMAT,
    diesel.FORMAT,
    popx.FORMAT,
    golang_migrate.FORMAT,
    dbmate.FORMAT,
    versioned_folders.FORMAT,
    plain.FORMAT,
)

FORMATS: dict[str, SourceFormat] = {f.name: f for f in DETECTION_ORDER}
