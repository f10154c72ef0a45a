"""Revision folders no configuration file names: sub-folders of `versions/` (often one per
database, picked in code), and a folder of revision files named on its own.

Alembic reads revisions from `version_locations` in alembic.ini or pyproject.toml, else from
`<script_location>/versions` alone, not its sub-folders unless `recursive_version_locations` is
set (https://alembic.sqlalchemy.org/en/latest/branches.html#multiple-bases, alembic/config.py
`get_version_locations_list`). Projects without a configuration file set it in code — env.py's or
the application's `config.set_main_option("version_locations", ...)`, an `alembic.config.Config`
built by hand — so the folders are found here from the files on disk and the literals in env.py
(read with `ast`; env.py never runs). Where the sub-folders are per database, the PostgreSQL one is
read and the choice is said.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from ..listing import sniff, subfolders

POSTGRES_NAMES = ("postgresql", "postgres", "pg", "psql", "pgsql")
OTHER_DATABASES = ("sqlite", "mysql", "mariadb", "mssql", "sqlserver", "oracle", "cockroachdb", "duckdb")
# A revision module's own assignments, at the start of a line (`revision: str = "abc"` too).
_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=\n]*)?=", re.M)


@dataclass(frozen=True)
class Locations:
    folders: tuple[Path, ...]  # empty: none of them is for PostgreSQL
    reason: str  # which folders, and why, for users
    others: tuple[Path, ...] = ()  # revision folders not read (other databases, not named in env.py)


def is_revision(file: Path) -> bool:
    """A module that assigns `revision` and `down_revision` and defines `upgrade()` at its top level
    (the text is looked at first; only a likely one is parsed)."""
    if file.suffix != ".py" or file.name.startswith("__"):
        return False
    head = sniff(file, 16 * 1024)
    if not (_REVISION.search(head) and _DOWN_REVISION.search(head)):
        return False
    try:
        tree = ast.parse(file.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    assigned = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        assigned |= {t.id for t in targets if isinstance(t, ast.Name)}
    upgrade = any(isinstance(n, ast.FunctionDef) and n.name == "upgrade" for n in tree.body)
    return upgrade and {"revision", "down_revision"} <= assigned


def holds_revisions(folder: Path) -> bool:
    try:
        return any(is_revision(p) for p in folder.iterdir() if p.is_file())
    except OSError:
        return False


def versions_below(script_location: Path) -> Locations | None:
    """The revision folders below `versions/` when it holds none itself; None when Alembic's
    default (`versions/`) is right."""
    versions = script_location / "versions"
    if not versions.is_dir() or holds_revisions(versions):
        return None
    candidates = [f for f in subfolders(versions) if holds_revisions(f)]
    if not candidates:
        return None
    named = _named_in_env(script_location)
    shown = ", ".join(f"versions/{c.name}" for c in candidates)
    source = "env.py sets version_locations in code" if named is not None else "no configuration names them"
    by_database = [c for c in candidates if c.name.lower() in POSTGRES_NAMES + OTHER_DATABASES]
    if by_database:
        postgres = tuple(c for c in by_database if c.name.lower() in POSTGRES_NAMES)
        others = tuple(c for c in by_database if c not in postgres)
        if not postgres:
            return Locations((), f"revisions are kept per database ({shown}) and none is for PostgreSQL", others)
        chosen = ", ".join(f"versions/{c.name}" for c in postgres)
        return Locations(postgres, f"revisions are kept per database ({shown}; {source}): read {chosen}, "
                                   "the PostgreSQL one", others)
    if named:
        picked = tuple(c for c in candidates if any(_names(word, c, script_location) for word in named))
        if picked:
            return Locations(picked, f"{source}: read {', '.join(f'versions/{c.name}' for c in picked)}",
                             tuple(c for c in candidates if c not in picked))
    return Locations(tuple(candidates), f"revisions are in sub-folders of versions/ ({shown}; {source}): all read")


def revision_folder(folder: Path) -> Locations | None:
    """A folder of revision files with no env.py beside or above it, named on its own."""
    if (folder / "env.py").is_file() or (folder.parent / "env.py").is_file() or not holds_revisions(folder):
        return None
    return Locations((folder,), "a folder of Alembic revisions named on its own (no env.py or alembic.ini): "
                                "read as revisions, without what an env.py would configure")


def _named_in_env(script_location: Path) -> list[str] | None:
    """The string literals of every `version_locations` value env.py sets; None when it sets none."""
    try:
        tree = ast.parse((script_location / "env.py").read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    found: list[str] | None = None
    for node in ast.walk(tree):
        values = []
        if isinstance(node, ast.Call):
            args = node.args
            if len(args) >= 2 and isinstance(args[0], ast.Constant) and args[0].value == "version_locations":
                values.append(args[1])
            values += [k.value for k in node.keywords if k.arg == "version_locations"]
        for value in values:
            found = (found or []) + [c.value for c in ast.walk(value)
                                     if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return found


def _names(word: str, folder: Path, script_location: Path) -> bool:
    """Does a literal in env.py name this folder (`versions/core`, `%(here)s/versions/core`)?"""
    rel = folder.relative_to(script_location).as_posix()
    parts = [p for p in re.split(r"[\s,;]+", word) if p]
    return any(p.rstrip("/").endswith(rel) or p.strip("/") == folder.name for p in parts)
