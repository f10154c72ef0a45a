"""Every source format this package reads, in the order detection asks them about a folder.

A format whose marker files or annotations are specific comes before one recognised by file names
alone, and plain SQL, which claims any folder of `.sql` files, comes last.

Each tool's reader is one module of this package defining `FORMAT` (a `SourceFormat`), imported
only when it is needed: `FORMATS[name]` imports that reader, and detection first asks each
format's marker below, a cheap test that is true of every folder the reader's own `detect` says
yes to (the files, names or annotations its `detect` looks for), so that a folder of plain SQL
files costs no import of the fifteen readers it is not written for.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Callable

from .listing import files_in, sniff, subfolders


def _numbered_with(folder: Path, needle: str, lower: bool = False) -> bool:
    """A file whose name starts with a digit and whose start holds `needle`."""
    for p in files_in(folder):
        if p.name[:1].isdigit():
            text = sniff(p)
            if needle in (text.lower() if lower else text):
                return True
    return False


def _any_sniff(folder: Path, needle: str, size: int | None = None, lower: bool = False) -> bool:
    for p in files_in(folder):
        text = sniff(p) if size is None else sniff(p, size)
        if needle in (text.lower() if lower else text):
            return True
    return False


def _up_down_names(folder: Path) -> bool:
    return any(p.name.endswith((".up.sql", ".down.sql")) for p in files_in(folder))


_STRUCTURED = (".yaml", ".yml", ".xml", ".json")  # liquibase/changelog.py STRUCTURED


def _structured_changelog(folder: Path) -> bool:
    # is_structured_changelog: a file of one of these suffixes naming databaseChangeLog near its top.
    return any("databaseChangeLog" in sniff(p, 8192) for suffix in _STRUCTURED for p in files_in(folder, suffix))


def _liquibase(folder: Path) -> bool:
    # The formatted-SQL header (its first line, matched without regard to case) holds "formatted".
    return _structured_changelog(folder) or _any_sniff(folder, "formatted", 512, lower=True)


def _supabase(folder: Path) -> bool:
    return ((folder.name == "migrations" and (folder.parent / "config.toml").is_file())
            or (folder / "config.toml").is_file())


def _graphile(folder: Path) -> bool:
    return (any((folder / name).is_file() for name in (".gmrc", ".gmrc.js", ".gmrc.cjs"))
            or (folder / "committed").is_dir() or folder.name == "committed")


def _flyway(folder: Path) -> bool:
    # parse_name: `R__...`, or V/U/B, a version, `__` and a description.
    return any(p.name[:1] in "RVUB" and "__" in p.name for p in files_in(folder))


def _always(folder: Path) -> bool:
    return True


# name → (reader module, marker): in detection order.
READERS: dict[str, tuple[str, Callable[[Path], bool]]] = {
    # atlas.sum marks a directory whose files may be in goose, Flyway or golang-migrate format.
    "atlas": (".atlas", lambda f: (f / "atlas.sum").is_file() or (f / "atlas.hcl").is_file()),
    "sqitch": (".sqitch", lambda f: (f / "sqitch.conf").is_file() or (f / "sqitch.plan").is_file()),
    "liquibase": (".liquibase", _liquibase),
    "goose": (".goose", lambda f: _numbered_with(f, "+goose", lower=True)),
    "sql-migrate": (".sql_migrate", lambda f: _any_sniff(f, "-- +migrate ")),
    "prisma": (".prisma", lambda f: (f / "migration_lock.toml").is_file()),
    "drizzle": (".drizzle", lambda f: (f / "meta" / "_journal.json").is_file()),
    "supabase": (".supabase", _supabase),
    "graphile-migrate": (".graphile", _graphile),
    # `-- Up Migration`, matched without regard to case: "grat" has no other spelling then.
    "node-pg-migrate": (".node_pg_migrate", lambda f: _any_sniff(f, "grat", 2048, lower=True)),
    "flyway": (".flyway", _flyway),
    "diesel": (".diesel", lambda f: any((sub / "up.sql").is_file() for sub in subfolders(f))),
    "popx": (".popx", _up_down_names),
    "golang-migrate": (".golang_migrate", _up_down_names),
    "dbmate": (".dbmate", lambda f: _numbered_with(f, "migrate:up")),
    "versioned-folders": (".versioned_folders", _always),
    "sql": (".plain", _always),
}


def _sqitch_root(folder: Path) -> bool:
    return any((a / "sqitch.conf").is_file() or (a / "sqitch.plan").is_file()
               for a in [folder, *folder.parents][:6])


def _liquibase_root(folder: Path) -> bool:
    # find_master: a structured changelog, or a formatted SQL file named *master*.
    return any(_structured_changelog(a) or any("master" in p.name.lower() for p in files_in(a))
               for a in [folder, *folder.parents][:6])


# name → marker of the formats with a `root_of`, in detection order: true of every folder whose
# project root that `root_of` finds.
ROOTED: dict[str, Callable[[Path], bool]] = {
    "sqitch": _sqitch_root,
    "liquibase": _liquibase_root,
    "graphile-migrate": lambda f: f.name == "current",
}

DETECTION_ORDER: tuple[str, ...] = tuple(READERS)


class _Formats(Mapping):
    """name → `SourceFormat`, each reader imported on first use."""

    def __init__(self):
        self._loaded: dict = {}

    def __getitem__(self, name: str):
        found = self._loaded.get(name)
        if found is None:
            module, _ = READERS[name]
            found = self._loaded[name] = import_module(module, __package__).FORMAT
        return found

    def __contains__(self, name) -> bool:
        return name in READERS

    def __iter__(self):
        return iter(READERS)

    def __len__(self) -> int:
        return len(READERS)


FORMATS: Mapping = _Formats()
