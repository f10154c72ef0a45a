"""Plain SQL in version folders: `v1.2/`, `delta/57/`, `release-3/`, `2.4.0/`, each holding the
`.sql` files of one release, applied by psql or the project's own script.

The folder of version folders is ONE history: folders in natural version order (1.9 before 1.10),
files within a folder in natural name order, or in the order a `manifest.json` in the folder lists
them (a file it does not list is not run and is reported so). Files tagged for PostgreSQL
(`x.sql.postgres`, `x.postgres.sql`, `x.pg.sql`, `x.postgresql.sql`) are migrations; files of
another database (`x.mysql.sql`, `x.sqlite`) are not; `.down.sql` files are the backward part.
A dialect sub-folder of a version (`v1.2/postgres/`, `v1.2/mysql/`) is read the same way.

There is no tool to cite: the order and transaction rule are plain SQL's (plain.py) — psql sends
statement after statement in autocommit unless the file opens a transaction — and the layout is
the one projects such as Apache Guacamole (`schema/upgrade/upgrade-pre-1.0.0.sql`), Harbor's
release folders and Marquez's versioned resources use.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .entries import Entry, History, Problem
from .formats import SourceFormat
from .listing import SKIPPED_FOLDERS, files_in, relative, subfolders
from .plain import FORMAT as PLAIN, not_a_migration
from .reading import UnreadableFile, read_text
from .unread import OTHER_DIALECTS
from .versions import natural_key

NAME = "versioned-folders"
# `v1.2`, `V3`, `version-4`, `release-3`, `rel_2.1`, `2.4.0`, `57`, `1.2.0-rc1`.
VERSION_FOLDER = re.compile(r"^(?:v|version|release|rel|r)?[-_.]?(\d+(?:[._]\d+)*)([-_.+]?[A-Za-z][\w.\-]*)?$", re.I)
POSTGRES_TAGS = ("postgres", "postgresql", "pg", "pgsql")
OTHER_DIALECT_WORDS = tuple(d.lstrip(".") for d in OTHER_DIALECTS) + ("h2", "hsqldb", "derby", "mariadb", "db2")
DIALECT_FOLDERS = POSTGRES_TAGS + OTHER_DIALECT_WORDS
MANIFEST = "manifest.json"
OTHER_DATABASE = "SQL for another database, which the tool does not run on PostgreSQL"


def version_key(name: str) -> tuple | None:
    match = VERSION_FOLDER.match(name)
    if not match:
        return None
    parts = tuple(int(p) for p in re.split(r"[._]", match.group(1)))
    # A pre-release (`1.2.0-rc1`) comes before the release itself.
    return (parts, 0 if match.group(2) else 1, (match.group(2) or "").lower())


def classify(name: str) -> str | None:
    """"up", "down", "other-dialect" or None (not SQL) for a file name in a version folder."""
    tags = name.lower().split(".")[1:]
    if not tags:
        return None
    if any(t in OTHER_DIALECT_WORDS for t in tags):
        return "other-dialect" if "sql" in tags or tags[-1] in OTHER_DIALECT_WORDS else None
    if "sql" not in tags or tags[-1] not in ("sql", *POSTGRES_TAGS):
        return None  # not SQL, or a copy (`x.sql.bak`)
    stem = stem_of(name).lower()
    if "down" in tags or stem == "down" or stem.endswith(("_down", "-down")):
        return "down"
    return "up"


def stem_of(name: str) -> str:
    """The name without its direction and dialect tags: `0010_1.9.0_schema.up.sql` → `0010_1.9.0_schema`."""
    parts = name.split(".")
    while len(parts) > 1 and parts[-1].lower() in ("sql", "up", "down", *POSTGRES_TAGS):
        parts.pop()
    return ".".join(parts)


def _version_folders(root: Path) -> list[Path]:
    found = [(version_key(f.name), f) for f in subfolders(root)]
    return [f for key, f in sorted((k, f) for k, f in found if k is not None)]


def _sql_files(folder: Path) -> list[Path]:
    return [p for p in files_in(folder, "") if classify(p.name) is not None]


def list_history(root: Path) -> History:
    history = History(root=root, format=NAME)
    for folder in subfolders(root):
        if version_key(folder.name) is None:
            for file in _sql_files(folder):
                history.skipped[file] = f"in {folder.name}/, which is not a version folder: not part of the history"
    for folder in _version_folders(root):
        _list_version(history, root, folder)
    return history


def _list_version(history: History, root: Path, folder: Path) -> None:
    files = _sql_files(folder)
    for sub in subfolders(folder):
        if sub.name.lower() in POSTGRES_TAGS:
            files += _sql_files(sub)
        elif sub.name.lower() in OTHER_DIALECT_WORDS:
            for file in _sql_files(sub):
                history.skipped[file] = OTHER_DATABASE
    order = _manifest_order(history, root, folder, files)
    if order is None:
        order = sorted(files, key=lambda p: (p.parent != folder, natural_key(p.name)))
    listed = set(order)
    for file in files:
        if file not in listed and file not in history.skipped:
            history.skipped[file] = f"not listed in {relative(root, folder / MANIFEST)}, so it is not run"
    version = folder.name
    for file in order:
        kind = classify(file.name)
        if kind == "other-dialect":
            history.skipped[file] = OTHER_DATABASE
            continue
        if kind == "up" and not_a_migration(file):
            history.skipped[file] = not_a_migration(file)
            continue
        stem = stem_of(file.name)
        entry = Entry(file=file, rel=relative(root, file), version=f"{version}/{stem}", description=stem,
                      kind="versioned" if kind == "up" else "undo")
        (history.forward if kind == "up" else history.reverse).append(entry)


def _manifest_order(history: History, root: Path, folder: Path, files: list[Path]) -> list[Path] | None:
    """The files `manifest.json` lists, in its order; None when there is no manifest."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    history.companions.add(manifest)
    rel = relative(root, manifest)
    try:
        data = json.loads(read_text(manifest))
    except UnreadableFile as err:
        history.problems.append(Problem(rel, err.line, err.message))
        return []
    except json.JSONDecodeError as err:
        history.problems.append(Problem(rel, err.lineno, f"manifest.json does not parse: {err.msg}"))
        return []
    names = _listed_names(data)
    if names is None:
        history.problems.append(Problem(rel, 1, "manifest.json lists no files: expected a list of file names, "
                                                "or an object with one under \"files\" or \"migrations\""))
        return []
    order = []
    for name in names:
        path = folder / name
        if not path.is_file():
            history.problems.append(Problem(rel, 1, f"manifest.json lists {name}, which is not in {folder.name}/",
                                            "remove it from the manifest or add the file"))
        else:
            order.append(path)
    return order


def _listed_names(data) -> list[str] | None:
    if isinstance(data, dict):
        data = next((data[k] for k in ("files", "migrations", "scripts", "order") if isinstance(data.get(k), list)),
                    None)
    if not isinstance(data, list):
        return None
    names = []
    for item in data:
        if isinstance(item, dict):
            item = item.get("file") or item.get("path") or item.get("name")
        if not isinstance(item, str):
            return None
        names.append(item)
    return names


def detect(folder: Path) -> bool:
    """Version folders below holding SQL, and no SQL migrations of the folder's own."""
    if any(classify(p.name) == "up" for p in files_in(folder, "")):
        return False
    versions = [f for f in _version_folders(folder) if f.name not in SKIPPED_FOLDERS]
    with_sql = [f for f in versions if _sql_files(f) or any(
        _sql_files(s) for s in subfolders(f) if s.name.lower() in DIALECT_FOLDERS)]
    # One release folder alone is more often an API version or an example than a history.
    if len(with_sql) < 2 and not any((f / MANIFEST).is_file() for f in with_sql):
        return False
    # Another tool's migrations inside version folders are that tool's, not plain SQL.
    from .flyway import parse_name

    return not any(parse_name(p.name) for f in with_sql for p in _sql_files(f))


def history_root(folder: Path, forced: str | None = None) -> Path | None:
    """The folder of version folders `folder` belongs to (a version folder, or a dialect folder in
    one), or None."""
    if forced not in (None, NAME):
        return None
    candidates = [folder.parent] if version_key(folder.name) else []
    if folder.name.lower() in DIALECT_FOLDERS and version_key(folder.parent.name):
        candidates.append(folder.parent.parent)
    from .detect import detect_format

    return next((c for c in candidates if forced == NAME or detect_format(c) == NAME), None)


FORMAT = SourceFormat(
    name=NAME, list_history=list_history, detect=detect, preprocess=True,
    looks_like="version folders (v1.2/, release-3/, 2.4.0/ holding .sql files)",
    runner=PLAIN.runner,
    outside_transaction=PLAIN.outside_transaction,
)
