"""`--from` and `--to` in a history with one order: which of its migrations they name.

`--from X` names the migration the database is at: the ones up to it are applied (read as
context) and the ones after it are the pending run. `--to Y` names the last one read.
"""
from __future__ import annotations

from dataclasses import dataclass

from .entries import History
from .versions import same_version


@dataclass(frozen=True)
class Range:
    applied: int | None  # the index of --from's migration: the ones up to it are context
    last: int  # the index of the last migration read


@dataclass(frozen=True)
class NoRange:
    message: str
    fix: str = ""


_FIXES = {"--from": "give the last migration the database has applied", "--to": "give the last migration to check"}


def history_range(history: History, layout: str, where: str, start: str | None, stop: str | None) -> Range | NoRange:
    """The range `--from start` and `--to stop` make of the forward run of the history in the
    folder `where`, or why they make none."""
    found = {}
    for option, name in (("--from", start), ("--to", stop)):
        if name is None:
            continue
        index = start_index(history, name)
        if index is None:
            names = "a tag of meta/_journal.json or its idx" if layout == "drizzle" else "a migration's file name or version"
            first = history.forward[0].rel if history.forward else ""
            return NoRange(f"{option} {name} names no migration of the {layout} history in {where}: expected {names}"
                           + (f" (such as {first})" if first else ""), _FIXES[option])
        found[option] = index
    applied, last = found.get("--from"), found.get("--to", len(history.forward) - 1)
    if applied is not None and "--to" in found and last < applied:
        return NoRange(f"--to {stop} comes before --from {start} in the {layout} history in {where}: "
                       "nothing would be checked")
    return Range(applied, last)


def start_index(history: History, name: str) -> int | None:
    """The position in the forward run of the migration an option names: its Drizzle journal tag
    or idx, its file name (with or without .sql), its path in the history, or its version."""
    found = None
    for i, entry in enumerate(history.forward):
        stem = entry.file.name[: -len(".sql")] if entry.file.name.endswith(".sql") else entry.file.name
        names = {entry.rel, entry.file.name, stem, str(entry.options.get("tag", "")), str(entry.options.get("idx", ""))}
        if entry.rel.endswith("/up.sql"):  # a migration folder (diesel): the folder's name
            names.add(entry.rel[: -len("/up.sql")])
        if name in names - {""} or (entry.version and same_version(history.format, entry.version, name)):
            found = i
    return found
