"""Supabase CLI: `supabase/migrations/<timestamp>_<name>.sql` in a project with `supabase/config.toml`.

Which files run (supabase/cli `pkg/migration/list.go`, `ListLocalMigrations`): the entries of
`migrations/` in name order whose names match `^([0-9]+)_(.*)\\.sql$`; any other name is skipped
with a message, and so is a first `<timestamp>_init.sql` older than 20211209000000 (the layout of
early CLI versions).

Transactions (supabase/cli `pkg/migration/file.go`, `MigrationFile.ExecBatch`): the CLI splits the
file into statements itself (`pkg/parser`, `SplitAndTrim`), queues them and the INSERT of the
history row into ONE pgx batch, and sends it with `ExecBatch`, "implicitly transactional": the
messages reach the server with a single Sync at the end, and PostgreSQL runs everything before a
Sync as one implicit transaction. There is no per-file opt-out. A statement that cannot run in a
transaction block is accepted only as the batch's first statement (checked on PostgreSQL 12 to 18
in the test suite): `CREATE INDEX CONCURRENTLY` works alone in its file, and fails after any
other statement of the file.

`seed.sql` (and the files `[db.seed] sql_paths` names in `config.toml`) is data that `supabase db
reset` loads after the migrations: not a migration, listed as such.
"""
from __future__ import annotations

import re
from pathlib import Path

from .entries import Entry, History, Problem
from .formats import SourceFormat
from .listing import files_in, relative, sniff
from .reading import UnreadableFile, read_text
from .transactions import Runner
from .versions import string_key

FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")
LEGACY_INIT = re.compile(r"([0-9]{14})_init\.sql")
LEGACY_INIT_BEFORE = 20211209000000
CONFIG = "config.toml"


def migrations_folder(root: Path) -> Path:
    """The history root is either the `supabase` folder or its `migrations` folder."""
    return root / "migrations" if (root / CONFIG).is_file() and (root / "migrations").is_dir() else root


def list_history(root: Path) -> History:
    history = History(root=root, format="supabase")
    folder = migrations_folder(root)
    project = folder.parent if (folder.parent / CONFIG).is_file() else None
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    for index, name in enumerate(names):
        path = folder / name
        if not name.endswith(".sql") or not path.is_file():
            continue
        legacy = LEGACY_INIT.search(name) if index == 0 else None
        if legacy and int(legacy.group(1)) < LEGACY_INIT_BEFORE:
            history.skipped[path] = "the Supabase CLI skips a first <timestamp>_init.sql from before 2021-12-09"
            continue
        match = FILE_NAME.match(name)
        if not match:
            history.skipped[path] = "the Supabase CLI runs only files named <timestamp>_<name>.sql"
            continue
        history.forward.append(Entry(file=path, rel=relative(root, path), version=match.group(1),
                                     description=match.group(2)))
    history.forward.sort(key=lambda e: string_key(e.file.name, e.rel))
    if project is not None:
        history.companions.add(project / CONFIG)
        for seed in _seed_files(project, history):
            history.skipped[seed] = "seed data that `supabase db reset` loads after the migrations, not a migration"
    return history


def _seed_files(project: Path, history: History) -> list[Path]:
    import tomllib  # only for Supabase projects

    rel = f"{relative(history.root, project / CONFIG)}"
    patterns = ["seed.sql"]
    try:
        data = tomllib.loads(read_text(project / CONFIG))
        seed = data.get("db", {}).get("seed", {})
        if isinstance(seed.get("sql_paths"), list):
            patterns = [str(p) for p in seed["sql_paths"]]
    except UnreadableFile as err:
        history.problems.append(Problem(rel, err.line, err.message))
    except tomllib.TOMLDecodeError as err:
        history.problems.append(Problem(rel, 1, f"the Supabase CLI cannot read {CONFIG}: {err}"))
    found: list[Path] = []
    for pattern in patterns:
        found.extend(p for p in sorted(project.glob(pattern.removeprefix("./"))) if p.is_file())
    return found


def _is_project(folder: Path) -> bool:
    """A Supabase CLI project folder: its config.toml names the project (`supabase init` writes it)."""
    return (folder / CONFIG).is_file() and "project_id" in sniff(folder / CONFIG, 8192)


def detect(folder: Path) -> bool:
    if folder.name == "migrations" and _is_project(folder.parent):
        return any(FILE_NAME.match(p.name) for p in files_in(folder))
    if _is_project(folder):
        return any(FILE_NAME.match(p.name) for p in files_in(folder / "migrations"))
    return False


FORMAT = SourceFormat(
    name="supabase", list_history=list_history, detect=detect,
    looks_like="Supabase CLI (supabase/migrations/<timestamp>_<name>.sql beside supabase/config.toml)",
    outside_transaction=("put it alone in its own migration file (the CLI's batch then starts with it, outside"
                         " any transaction block)"),
    runner=Runner(
        wraps=False,
        wrapped="the Supabase CLI runs each migration in a transaction (configuration)",
        unwrapped="the Supabase CLI sends the file's statements and its history row as one pgx batch",
        whole_file_query=True,
    ),
)
