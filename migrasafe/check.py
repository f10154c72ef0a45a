"""`migrasafe check`: the whole pipeline, sources → parse → catalog → locks → rules → report."""
from __future__ import annotations

import contextlib
import gc
import sys
import types
from pathlib import Path

from .catalog import Catalog
from .config import Config
from .model import MigrationResult, Report
from .selection import RuleSelection, make_finding
from .sources import read_migrations
from .sources.lazy import realize

# The parser, the lock model and the rules load with the first migration that is analysed: a run
# that loads every result from the cache does without them.


def seed_catalog(config: Config, report: Report, selection: RuleSelection) -> Catalog:
    """A catalog holding what `--schema dump.sql` files describe: all of it live."""
    catalog = Catalog()
    if config.schema:
        from .catalog.apply import apply
        from .parse import split_statements
    for dump in config.schema:
        try:
            text = Path(dump).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            f = make_finding("MS099", f"cannot read schema file: {err}", path=dump, line=1, selection=selection)
            report.findings.extend([f] if f else [])
            continue
        for stmt in split_statements(text):
            if stmt.node is not None:
                apply(catalog, stmt.node)
    catalog.search_path = ["public"]
    return catalog


def run(paths: list[str], config: Config) -> Report:
    # A run allocates many small long-lived node trees: with the default thresholds the cyclic
    # collector rescans them over and over, which costs a third of a large run.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        with contextlib.ExitStack() as parsing:
            return _run(paths, config, parsing)
    finally:
        gc.set_threshold(*thresholds)


def _run(paths: list[str], config: Config, parsing: contextlib.ExitStack) -> Report:
    report = Report(pg_version=config.pg_version, fail_on=config.fail_on)
    selection = RuleSelection(config)
    listed: list = []
    migrations, findings = read_migrations(paths, config, report.skipped, listed)
    report.findings.extend(selection.admit(findings))
    if not migrations and not report.broken:
        # Every path was excluded, or names a file its tool does not run: a run that read nothing
        # never passes.
        why = ("the files named are not run by their tool (listed under skipped)" if report.skipped
               else "every path is excluded by the configuration")
        f = make_finding("MS099", f"no migration was read from {', '.join(paths) or 'the paths given'}: {why}",
                         path=paths[0] if paths else ".", line=1, selection=selection)
        report.findings.extend([f] if f else [])
    base = seed_catalog(config, report, selection)
    catalogs: dict[str, Catalog] = {}
    # Runners that apply several migrations on one connection (Alembic) name it in meta["session"].
    sessions: dict = {}
    cache = None
    if config.cache:
        from .cache import open_cache

        cache = open_cache(config)

    def start_parsing():
        if not sessions.get("parsing"):
            from .parse import trusted_node_attributes

            parsing.enter_context(trusted_node_attributes())
            sessions["parsing"] = True

    def judge(migration, catalog, tx=None, **part):
        """`part`: one part of the migration (analyse_migration's resume_at and pause_at), from
        the transaction state `tx`; unfinished."""
        start_parsing()
        migration = realize(migration)
        if part:
            return analyse(migration, catalog, config, selection, tx, **part)
        session = migration.meta.get("session")
        if session:
            from .transaction import TxState

            sessions.setdefault(("tx", session), TxState())
        return analyse(migration, catalog, config, selection, sessions.get(("tx", session)))

    def catalog_of(history: str) -> Catalog:
        catalog = catalogs.get(history)
        if catalog is None:
            catalog = catalogs[history] = base.copy()
        return catalog

    shared = None
    if cache is None and config.jobs > 1 and migrations:
        from .parallel.run import judge_in_shares

        start_parsing()
        shared = judge_in_shares(migrations, catalog_of, judge, finish, config.jobs)
    for migration in migrations if shared is None else ():
        history = migration.meta.get("history", "")
        catalog = catalog_of(history)
        key = cache.key(migration) if cache is not None else None
        if key is not None:
            cached = cache.result(key)
            if cached is not None:
                report.results.append(cached)
                continue
            catalog = catalogs[history] = cache.catalog_before(migration, catalog, judge)
        result = judge(migration, catalog)
        if key is not None:
            cache.analysed(migration, key, result, catalog)
        report.results.append(result)
    if shared is not None:
        report.results.extend(shared)
    if cache is not None:
        cache.finish(catalogs)
    from .history import check_histories  # after the cache stored each result: these are never cached

    check_histories(report, listed, config, selection)
    return report


def analyse(migration, catalog: Catalog, config: Config, selection: RuleSelection, tx, **part):
    """One migration's result, its suppressions and grouped findings applied; with `part`
    (analyse_migration's resume_at and pause_at), the statements of one part only, to be
    `finish`ed once the parts are put together."""
    from .analyse import analyse_migration, internal_error

    try:
        result = analyse_migration(migration, catalog, config, selection, session=tx, **part)
    except Exception as err:  # noqa: BLE001 - one migration's failure must not end the run
        migration.broken = True
        return MigrationResult(migration=migration, findings=[internal_error(err, path=migration.path, line=1)])
    return result if part else finish(result)


def finish(result: MigrationResult) -> MigrationResult:
    """What is done over a migration's whole result: suppressions, grouped findings, templates."""
    from .analyse import internal_error
    from .rules.locking import fold_repeated_findings

    migration = result.migration
    try:
        if "migrasafe:" in migration.text or "atlas:nolint" in migration.text:  # only then load the reader
            from .suppress import apply_suppressions

            apply_suppressions(result, migration.text)
        fold_repeated_findings(result)
        if migration.meta.get("templates"):
            _show_templates(result, migration.meta["templates"])
    except Exception as err:  # noqa: BLE001 - one migration's failure must not end the run
        migration.broken = True
        result = MigrationResult(migration=migration, findings=[internal_error(err, path=migration.path, line=1)])
    return result


def _show_templates(result, templates: dict[str, str]) -> None:
    from .parse import restore_templates

    for finding in result.all_findings():
        finding.message = restore_templates(finding.message, templates)
        finding.fix = restore_templates(finding.fix, templates)
        finding.lock = restore_templates(finding.lock, templates)


class CallableModule(types.ModuleType):
    """`migrasafe.check(paths, ...)` is the documented Python API (migrasafe/api.py) and this
    module shares its name, so that calling the module runs the API."""

    def __call__(self, paths, **settings) -> Report:
        from .api import check

        return check(paths, **settings)


sys.modules[__name__].__class__ = CallableModule
