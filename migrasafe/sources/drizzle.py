"""Drizzle Kit: `NNNN_<name>.sql` files listed in `meta/_journal.json`, split on `--> statement-breakpoint`.

Semantics from drizzle-orm's migrator (drizzle-team/drizzle-orm `drizzle-orm/src/migrator.ts`,
`readMigrationFiles`, and `drizzle-orm/src/pg-core/dialect.ts`, `PgDialect.migrate`, used by the
node-postgres and postgres-js migrators):
* only the journal's entries run, in journal order: `<tag>.sql` for each entry, an entry whose
  file is missing stops the migrator, and a `.sql` file the journal does not list never runs
  (both reported by migrasafe/history);
* each file is split on `--> statement-breakpoint` and every piece is sent as one query;
* ALL pending migrations run in ONE transaction (`session.transaction(...)` around the loop), with
  no per-file opt-out: locks taken by one file are held while the next ones run, and
  `CREATE INDEX CONCURRENTLY` fails unless the file ends that transaction with its own COMMIT.
A migration is pending when its journal `when` is later than the newest `created_at` recorded in
`drizzle.__drizzle_migrations`: an entry whose `when` is not later than an earlier entry's never
runs on a database that applied that one (an input error here).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..config import Config
from .entries import Entry, History, MissingFile, Problem
from .formats import Prepared, SourceFormat
from .listing import files_in, relative
from .reading import UnreadableFile, read_text
from .transactions import Runner

JOURNAL = Path("meta") / "_journal.json"
BREAKPOINT = "--> statement-breakpoint"
POSTGRES_DIALECTS = {"postgresql", "pg", "postgres"}
NOT_IN_JOURNAL = "not in meta/_journal.json: drizzle's migrator never runs it"


def list_history(root: Path) -> History:
    history = History(root=root, format="drizzle")
    journal_path = root / JOURNAL
    rel = str(JOURNAL)
    history.companions.add(journal_path)
    journal = _read_journal(journal_path, rel, history)
    listed: set[Path] = set()
    if journal is not None:
        dialect = journal.get("dialect")
        entries = journal.get("entries")
        if not isinstance(entries, list):
            history.problems.append(Problem(rel, 1, "drizzle cannot read this journal: it has no \"entries\" list"))
            entries = []
        other_dialect = isinstance(dialect, str) and dialect.lower() not in POSTGRES_DIALECTS
        latest, latest_tag = None, ""
        for position, item in enumerate(entries):
            tag = item.get("tag") if isinstance(item, dict) else None
            if not isinstance(tag, str) or not tag:
                history.problems.append(Problem(rel, 1, f"journal entry {position} has no \"tag\": drizzle cannot find its file"))
                continue
            path = root / f"{tag}.sql"
            listed.add(path)
            if not path.is_file():
                history.missing.append(MissingFile(rel, 1, tag, f"{tag}.sql"))
                continue
            if other_dialect:
                history.skipped[path] = f"the journal's dialect is {dialect!r}: this history is not run on PostgreSQL"
                continue
            when = item.get("when")
            if isinstance(when, (int, float)) and isinstance(latest, (int, float)) and when <= latest:
                history.problems.append(Problem(
                    rel, 1, f"drizzle's migrator never runs {tag} on a database that has applied {latest_tag}: its"
                    f" \"when\" ({when}) is not later than that one's ({latest}), and only later ones count as pending",
                    "give it a \"when\" later than every entry before it"))
            if isinstance(when, (int, float)) and (latest is None or when > latest):
                latest, latest_tag = when, tag
            version, _, description = tag.partition("_")
            history.forward.append(Entry(
                file=path, rel=relative(root, path), version=version, description=description,
                options={"breakpoints": item.get("breakpoints", True) is not False, "when": item.get("when"),
                         "tag": tag, "idx": item.get("idx", position)},
            ))
    for path in files_in(root):
        if path not in listed:
            history.skipped[path] = NOT_IN_JOURNAL
    return history


def _read_journal(path: Path, rel: str, history: History) -> dict | None:
    try:
        data = json.loads(read_text(path))
    except UnreadableFile as err:
        history.problems.append(Problem(rel, err.line, err.message))
        return None
    except json.JSONDecodeError as err:
        history.problems.append(Problem(rel, err.lineno, f"drizzle cannot read this journal: {err.msg}"))
        return None
    if not isinstance(data, dict):
        history.problems.append(Problem(rel, 1, "drizzle cannot read this journal: it is not a JSON object"))
        return None
    return data


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    # drizzle sends each piece between breakpoints as its own query, as if each ended with a
    # semicolon: the marker becomes one, padded to its length so columns stay the file's own.
    return Prepared(text.replace(BREAKPOINT, ";" + " " * (len(BREAKPOINT) - 1)))


def detect(folder: Path) -> bool:
    return (folder / JOURNAL).is_file()


FORMAT = SourceFormat(
    name="drizzle", list_history=list_history, prepare=prepare, detect=detect,
    looks_like="Drizzle Kit (NNNN_<name>.sql listed in meta/_journal.json)",
    outside_transaction=("drizzle's migrator has no per-migration opt-out: run it outside the migrator, or end"
                         " drizzle's transaction with 'COMMIT;--> statement-breakpoint' before it"),
    # Another migration file is no separate transaction: pending files share the migrator's.
    separate_transaction=("after the first step has committed: end drizzle's transaction with "
                          "'COMMIT;--> statement-breakpoint' before it, or ship it in a later deploy (a separate "
                          "migrator run; pending migrations of one run share one transaction)"),
    runner=Runner(
        wraps=True,
        wrapped="drizzle's migrator runs all pending migrations in one transaction",
        unwrapped="drizzle migrations run without a transaction (configuration)",
        whole_file_query=False,
        scope="run",
    ),
)
