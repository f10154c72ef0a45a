"""Prisma Migrate: one folder per migration, `<timestamp>_<name>/migration.sql`, beside `migration_lock.toml`.

`prisma migrate deploy` applies the folders in name order (the timestamp prefix) and records
them in `_prisma_migrations`; `migration_lock.toml` names the provider the history was written
for. A `down.sql` beside a migration is only run by hand (`prisma migrate diff` writes it, `prisma
db execute` runs it): it is never part of a forward run.

Transactions: Prisma has no per-migration flag. Its schema engine sends `migration.sql` with one
`simple_query(script)` call (prisma-engines
`schema-engine/connectors/sql-schema-connector/src/flavour/postgres/connector/native/mod.rs`,
`apply_migration_script`), and PostgreSQL runs a multi-statement simple query as one implicit
transaction: a lone `CREATE INDEX CONCURRENTLY` works, one beside other statements fails
(prisma/prisma issue 22922 reproduces it). This is the engine of Prisma 2 to 7.3.
prisma-engines pull request 5767 (merged 2026-02-09, two days before Prisma 7.4.0) splits the
script into statements and sends each on its own, in autocommit (pull requests 5799 and 5847
follow it up; a script its splitter cannot parse is still sent at once).
With such an engine, set `transaction = { prisma = false }` in the configuration.
"""
from __future__ import annotations

from pathlib import Path

from .entries import Entry, History, Problem
from .formats import SourceFormat
from .listing import subfolders
from .reading import UnreadableFile, read_text
from .transactions import Runner
from .versions import string_key

LOCK_FILE = "migration_lock.toml"
SCRIPT = "migration.sql"
# Prisma's own spellings of the PostgreSQL provider.
POSTGRES_PROVIDERS = {"postgresql", "postgres"}


def list_history(root: Path) -> History:
    history = History(root=root, format="prisma")
    lock = root / LOCK_FILE
    provider = _provider(lock, history) if lock.is_file() else None
    if lock.is_file():
        history.companions.add(lock)
    entries, undos = [], []
    for folder in subfolders(root):
        script = folder / SCRIPT
        version, _, description = folder.name.partition("_")
        if not script.is_file():
            if any(p.suffix == ".sql" for p in folder.iterdir() if p.is_file()):
                history.problems.append(Problem(
                    f"{folder.name}/{SCRIPT}", 1,
                    f"prisma migrate deploy stops here: the migration folder {folder.name} has no {SCRIPT}",
                    f"put the migration's SQL in {folder.name}/{SCRIPT}",
                ))
            continue
        entries.append(Entry(file=script, rel=f"{folder.name}/{SCRIPT}", version=version, description=description))
        down = folder / "down.sql"
        if down.is_file():
            undos.append(Entry(file=down, rel=f"{folder.name}/down.sql", version=version,
                               description=description, kind="undo"))
    if provider is not None and provider not in POSTGRES_PROVIDERS:
        why = f"{LOCK_FILE} says provider = {provider!r}: this history is not run on PostgreSQL"
        for entry in entries + undos:
            history.skipped[entry.file] = why
        return history
    # Prisma sorts the migration folders by name.
    history.forward = sorted(entries, key=lambda e: string_key(e.rel, e.rel))
    history.reverse = sorted(undos, key=lambda e: string_key(e.rel, e.rel))
    return history


def _provider(lock: Path, history: History) -> str | None:
    import tomllib  # only for Prisma histories

    try:
        data = tomllib.loads(read_text(lock))
    except UnreadableFile as err:
        history.problems.append(Problem(LOCK_FILE, err.line, err.message))
        return None
    except tomllib.TOMLDecodeError as err:
        history.problems.append(Problem(LOCK_FILE, 1, f"Prisma cannot read {LOCK_FILE}: {err}"))
        return None
    provider = data.get("provider")
    return provider.lower() if isinstance(provider, str) else None


def detect(folder: Path) -> bool:
    return (folder / LOCK_FILE).is_file() and any((sub / SCRIPT).is_file() for sub in subfolders(folder))


FORMAT = SourceFormat(
    name="prisma", list_history=list_history, detect=detect,
    looks_like="Prisma Migrate (<timestamp>_<name>/migration.sql beside migration_lock.toml)",
    outside_transaction=("put it alone in its own migration folder (Prisma then sends it as a one-statement"
                         " script, outside any transaction block)"),
    runner=Runner(
        wraps=False,
        wrapped="Prisma runs this migration in a transaction (configuration)",
        unwrapped="Prisma's schema engine (Prisma 2 to 7.3) sends migration.sql as one script",
        whole_file_query=True,
    ),
)
