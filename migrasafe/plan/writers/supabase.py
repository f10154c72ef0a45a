"""Supabase CLI: supabase/migrations/<timestamp>_<name>.sql."""
from __future__ import annotations

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    return [(new.rel, new.header + new.up)]


WRITER = Writer(
    format="supabase", main_file=main_file, files=files,
    rerun="the failed file's batch rolled back with its history row: run `supabase db push` again",
    first_timestamp="%Y%m%d%H%M%S",
)
