"""Plain SQL files, run by psql or a script statement by statement."""
from __future__ import annotations

from ...sources.versions import natural_key
from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}{separator}{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    return [(new.rel, new.header + new.up)]


WRITER = Writer(
    format="sql", main_file=main_file, files=files, rerun="run the file again", statement_by_statement=True,
    last_version=lambda versions: max(versions, key=natural_key), default_width=4,
)
