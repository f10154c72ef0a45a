"""Plain `.sql` files run one after another (by psql or a script), in natural version order.

A schema dump (`pg_dump` output, dbmate's `schema.sql`, Rails' `structure.sql`) or a seed file in
the folder describes or fills the database rather than changing it: it is listed as not read.
"""
from __future__ import annotations

from pathlib import Path

from .entries import Entry, History
from .formats import SourceFormat
from .listing import files_in, relative, sniff
from .transactions import Runner
from .versions import LEADING_VERSION, natural_key

DUMP_NAMES = {"schema.sql", "structure.sql", "dump.sql"}
# pg_dump's first lines, in every version 9.x to 18.
DUMP_HEADER = "-- PostgreSQL database dump"


def list_history(root: Path) -> History:
    history = History(root=root, format="sql")
    for path in sorted(files_in(root), key=lambda p: natural_key(p.name)):
        reason = not_a_migration(path)
        if reason:
            history.skipped[path] = reason
        else:
            history.forward.append(plain_entry(root, path))
    return history


def not_a_migration(path: Path) -> str | None:
    """Why a `.sql` file in a migrations folder is not one of its migrations, or None."""
    name = path.name.lower()
    if DUMP_HEADER in sniff(path, 4096):
        return "a pg_dump schema dump, not a migration (use it with --schema to seed the schema)"
    if name in DUMP_NAMES:
        return "a schema dump by its name, not a migration (use it with --schema to seed the schema)"
    if name.startswith(("seed", "seeds")) and not LEADING_VERSION.match(name):
        return "seed data, not a migration"
    return None


def looks_like_migrations(folder: Path) -> bool:
    """A folder found while searching a project counts as plain SQL migrations only when one of its
    files carries a version, so that a folder of queries or seeds is not taken for a history."""
    return any(LEADING_VERSION.match(p.name) and not not_a_migration(p) for p in files_in(folder))


def plain_entry(root: Path, file: Path) -> Entry:
    stem = file.name[: -len(".sql")] if file.name.endswith(".sql") else file.name
    match = LEADING_VERSION.match(stem)
    version = match.group(0) if match else ""
    description = stem[len(version) :].lstrip("_-. ") if version else stem
    return Entry(file=file, rel=relative(root, file), version=version, description=description)


FORMAT = SourceFormat(
    name="sql", list_history=list_history, preprocess=True, looks_like="plain SQL (*.sql)",
    outside_transaction='run it outside BEGIN ... COMMIT',
    runner=Runner(
        wraps=False,
        wrapped="plain SQL files are run in one transaction (configuration)",
        unwrapped="plain SQL files run statement by statement (autocommit) unless they open a transaction",
        whole_file_query=False,
    ),
)
