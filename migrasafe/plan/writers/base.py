"""The shape every format's writer fills in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class NewMigration:
    """One migration to write: its main file and what goes in it."""

    rel: str  # the main file, relative to the migration folder
    header: str  # comment lines that explain the migration, each ending in a newline
    up: str  # the statements, each ending in ";\n"
    down: str  # the statements that revert it, or a comment saying why there are none
    transactional: bool  # may run inside a transaction block
    # It is one statement PostgreSQL refuses inside a transaction block (CONCURRENTLY), rather than
    # a DO block that only needs to run outside one to COMMIT.
    alone: bool = False
    # Why it must run outside a transaction, for a comment in a companion file.
    outside_reason: str = "CONCURRENTLY and COMMIT inside a DO block cannot run in a transaction block."


def default_versions(versions: list[str]) -> str:
    return max(versions)


@dataclass(frozen=True)
class Writer:
    format: str
    # (version, slug, separator between version and description) → the main file's relative path
    main_file: Callable[[str, str, str], str]
    # NewMigration → every file of it as (relative path, text), the main file first
    files: Callable[[NewMigration], list[tuple[str, str]]]
    rerun: str  # how to rerun after a failure; {previous} is the version before
    rerun_outside: str = ""  # the same for a migration that ran outside a transaction, when different
    # The runner sends each statement of a non-transactional file on its own (psql), so one file may
    # hold SET lock_timeout and a statement that cannot run in a transaction block.
    statement_by_statement: bool = False
    last_version: Callable[[list[str]], str] = default_versions
    default_width: int = 0  # zero padding of a counter when the folder has no migration yet
    # strftime pattern of the versions the tool's own generator writes, used when the folder has no
    # migration yet (or only an all-zero setup migration); "" for counters.
    first_timestamp: str = ""
    # `fix`: make an existing one-statement file run outside a transaction, as (fixer, analysed)
    # → True when done; None when the format has no way and the statement moves to a new file.
    opt_out: Callable[[Any, Any], bool] | None = None
    # Why the tool can run no migration outside a transaction (drizzle's migrator wraps every run):
    # `fix` then says so instead of writing a file that would fail. "" when it can.
    never_outside: str = ""
    # A format whose migrations are listed in a file of the tool's (sqitch.plan, a Liquibase master
    # changelog) or live several to a file. `fix`: (fixer, groups of moved statements) → the file
    # changes that add them to the history (edits to the fixer's own file go in its edits), or None
    # after a note. `plan`: (layout, planned migrations, now) → [(path relative to the folder, text
    # before, text after)] of the existing files that must list the new ones.
    add_to_history: Callable[[Any, list], list | None] | None = None
    list_new: Callable[[Any, list, Any], list[tuple[str, str, str]]] | None = None
