"""Supabase CLI: `supabase/migrations/<timestamp>_<name>.sql` in a project with `supabase/config.toml`.

Which files run (supabase/cli `pkg/migration/list.go`, `ListLocalMigrations`): the entries of
`migrations/` in name order whose names match `^([0-9]+)_(.*)\\.sql$`; any other name is skipped
with a message, and so is a first `<timestamp>_init.sql` older than 20211209000000 (the layout of
early CLI versions).

Transactions: the CLI splits the file into statements itself (`pkg/parser`, `SplitAndTrim`) and
pipelines them with the INSERT of the history row: one Parse/Bind/Execute per statement and a
single Sync at the end, which PostgreSQL runs as one implicit transaction (locks last until the
Sync). There is no per-file opt-out. What happens to a statement that cannot run in a
transaction block depends on the CLI version:
- 2.109 and later (the default here): statements the CLI classes as pipeline-incompatible are run
  on their own outside the batch — the batch so far is flushed (and commits), the statement runs
  by itself, and batching resumes after it (supabase/cli#5671 on the design of #5156, recorded in
  #6009: `CREATE [UNIQUE] INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`, `VACUUM`, `CLUSTER`,
  `ALTER SYSTEM`; `DROP INDEX CONCURRENTLY` since #6276). So CONCURRENTLY works anywhere in the
  file, the runs of other statements between them are each one implicit transaction, and any
  other such statement (CREATE DATABASE, ...) fails in the batch.
- Up to 2.108 (`pkg/migration/file.go`, `MigrationFile.ExecBatch`, "implicitly transactional"):
  everything is one pgx batch, and CONCURRENTLY fails in any file, even alone ("cannot be
  executed within a pipeline (SQLSTATE 25001)", supabase/cli#2898 and #5139). Configure
  `transaction = { supabase = true }` to check a project still on such a CLI: every file is then
  one transaction block.

`seed.sql` (and the files `[db.seed] sql_paths` names in `config.toml`) is data that `supabase db
reset` loads after the migrations: not a migration, listed as such.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..config import Config
from ..model import Finding, Statement
from .entries import Entry, History, Problem
from .formats import Prepared, SourceFormat, standard_transaction
from .listing import files_in, relative, sniff
from .reading import UnreadableFile, read_text
from .transactions import Choice, Runner
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


STANDALONE = ("CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, "
              "CLUSTER and ALTER SYSTEM")
BATCH = ("the Supabase CLI sends the file's statements and its history row as one pipelined batch (a single "
         "Sync at the end), which PostgreSQL runs as one implicit transaction")
LEGACY = ("transaction.supabase = true in the configuration: the Supabase CLI up to 2.108 sends the whole file "
          "and its history row as one pgx batch, one implicit transaction where even a lone CONCURRENTLY fails")


def runs_standalone(node) -> bool:
    """The statements the current CLI takes out of the batch and runs on their own."""
    from pglast import ast  # only once statements are read
    from pglast.enums.parsenodes import ObjectType

    if isinstance(node, ast.IndexStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.DropStmt):
        return node.removeType == ObjectType.OBJECT_INDEX and bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    return isinstance(node, (ast.ClusterStmt, ast.AlterSystemStmt))


def transaction(fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement],
                config: Config, display: str) -> tuple[Choice, list[Finding]]:
    if config.transaction.get("supabase") is True:
        return Choice(True, LEGACY), []
    if "supabase" in config.transaction:
        return standard_transaction(fmt, entry, prepared, statements, config, display)
    standalone = [s.index for s in statements if s.node is not None and runs_standalone(s.node)]
    if not standalone:
        return Choice(True, BATCH), []
    runs, current = [], []
    for statement in statements:
        if statement.index in standalone:
            runs.append(current)
            current = []
        else:
            current.append(statement)
    runs.append(current)
    blocks = tuple((run[0].index, run[-1].index, "the Supabase CLI's batch of " + (
        f"line {run[0].line}" if run[0].line == run[-1].line else f"lines {run[0].line}-{run[-1].line}"))
        for run in runs if run)
    reason = (f"{BATCH}; it runs {STANDALONE} on their own outside the batch, so the statements between them "
              f"are each batch's own implicit transaction")
    return Choice(False, reason, query_blocks=blocks), []


FORMAT = SourceFormat(
    name="supabase", list_history=list_history, detect=detect, transaction=transaction,
    looks_like="Supabase CLI (supabase/migrations/<timestamp>_<name>.sql beside supabase/config.toml)",
    outside_transaction=(f"the Supabase CLI 2.109 and later run {STANDALONE} on their own, outside the batch "
                         "(drop transaction.supabase = true once the project's CLI is that recent); any other "
                         "statement that cannot run in a transaction block must run outside the migrations (psql)"),
    # The batch is one implicit transaction, where a COMMIT inside DO fails ("invalid transaction
    # termination"), and no version of the CLI runs a DO on its own.
    self_committing=("the Supabase CLI runs every file as one batch, where a COMMIT inside DO fails: run the "
                     "batched backfill outside the migrations (psql, or a job), or one batch per migration file "
                     "without the COMMIT"),
    runner=Runner(
        wraps=False,
        wrapped="the Supabase CLI runs each migration in a transaction (configuration)",
        unwrapped="the Supabase CLI sends the file's statements and its history row as one pgx batch",
        whole_file_query=True,
    ),
)
