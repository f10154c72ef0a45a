"""`migrasafe replay`: run the migrations on a throwaway server with production-shaped rows.

For each size, every migration history gets a fresh database. Before each migration, the tables
that exist and were not seeded yet get their rows (so a table is full by the time a later
migration changes it, as in production); then the migration runs under measurement while probes
read and write its live tables. Durations at the sizes are fitted against rows and predicted at
production size; the predictions are judged against the budgets. What was observed is attached
to the check's report (`AnalysedStatement.observed`), with the replay's findings:

    MS095 over-budget        a lock or the migration predicted to last longer than its budget
    MS097 model-mismatch     the server did something the lock model did not predict
    MS098 replay-incomplete  a statement failed, or a table could not be seeded
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..analyse import RuleSelection, make_finding
from ..config import Config
from ..locks.modes import blocks_writes, conflicts
from ..model import AnalysedStatement, MigrationResult, Report
from .ahead import SessionAhead, SessionKept, next_session
from .backends import BackendError, Server, open_backend
from .budget import Budgets, format_ms, judge
from .extrapolate import growth_of, predict
from .measure import MigrationRun, ReplayTimeout, Runner, StatementRun
from .mismatch import mismatches
from .outside import reaches_outside
from .monitor import Monitor
from .probe import ProbeQuery, Sessions, probing
from .progress import Progress
from .seed import SeedResult, Seeder
from .stats import ProductionRows
from .timeline import migration_timeline
from .touched import history_reach, seed_ahead

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_STATEMENT_TIMEOUT_MS = 600_000.0
# The static model assumes a session TimeZone other than UTC unless told otherwise (a
# timestamp → timestamptz change then rewrites); the replay session follows the same assumption.
NON_UTC_TIMEZONE = "America/New_York"


class ReplayError(Exception):
    """The replay cannot run; the message says why and what to do."""


@dataclass
class ReplaySettings:
    backend: str = "embedded"
    dsn: str | None = None
    image: str | None = None
    production: ProductionRows = field(default_factory=ProductionRows)
    sizes: tuple[int, ...] = DEFAULT_SIZES
    probes: bool = True
    statement_timeout_ms: float = DEFAULT_STATEMENT_TIMEOUT_MS
    timeout_ms: float | None = None
    budgets: Budgets = field(default_factory=Budgets)
    progress: bool | None = None  # None: when standard error is a terminal
    # Schema changes run this many times under SAVEPOINT ... ROLLBACK TO, keeping the fastest.
    repeat: int = 3


@dataclass
class SizeRun:
    """Everything one size measured, by (migration key, statement index)."""

    size: int
    runs: dict[tuple[str, int], StatementRun] = field(default_factory=dict)
    migrations: dict[str, MigrationRun] = field(default_factory=dict)
    blocked: dict[tuple[str, int], dict] = field(default_factory=dict)
    planned_rows: dict[str, int] = field(default_factory=dict)  # seeded table -> rows asked for
    seeding: list[SeedResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timelines: list[dict] = field(default_factory=list)  # replay.timeline, per migration
    origin: float = field(default_factory=time.perf_counter)


def migration_key(result: MigrationResult) -> str:
    return result.migration.meta.get("key", result.migration.path)


def plan_sizes(sizes, production: ProductionRows) -> list[int]:
    """The replay sizes, none above production size (which is then replayed as it is)."""
    largest = production.largest
    return sorted({min(int(size), largest) for size in sizes if int(size) > 0}) or [largest]


def scaled_rows(production_rows: int, size: int, largest: int) -> int:
    """A table's rows at a replay size: production rows scaled so the largest table has `size`."""
    if largest <= 0 or production_rows <= 0:
        return 0
    return max(1, round(production_rows * size / largest))


def replay_report(report: Report, paths: list[str], config: Config, settings: ReplaySettings,
                  model_report: Report | None = None, server: Server | None = None) -> None:
    """Replay the report's migrations; attach what was observed and the replay's findings.

    `server` is one already started (several replays sharing it); without it the settings'
    backend starts one and removes it afterwards.
    """
    if report.broken:
        from ..verdict import input_errors

        raise ReplayError("some migrations could not be read or parsed; the replay would stop there, "
                          "so it did not run:\n  " + "\n  ".join(input_errors(report)))
    started = time.perf_counter()
    deadline = started + settings.timeout_ms / 1000 if settings.timeout_ms else None
    sizes = plan_sizes(settings.sizes, settings.production)
    histories: dict[str, list[MigrationResult]] = {}
    for result in report.results:
        histories.setdefault(result.migration.meta.get("history", ""), []).append(result)
    # What each migration touches, and whether it reaches further, is the same at every size.
    reaches = {key: history_reach(history) for key, history in histories.items()}
    progress = Progress(settings.progress)
    size_runs: list[SizeRun] = []
    try:
        with shared(server) if server is not None else open_backend(
                settings.backend, pg_version=config.pg_version, dsn=settings.dsn, image=settings.image,
                progress=lambda text: progress.step(text, force=True)) as server:
            if model_report is None:
                model_report = report if server.major == config.pg_version else static_model(paths, config, server.major)
            for number, size in enumerate(sizes, start=1):
                size_run = SizeRun(size)
                size_runs.append(size_run)
                for key, history in histories.items():
                    progress.set_prefix(f"replay {number}/{len(sizes)} ({size:,} rows) ")
                    replay_history(server, history, size_run, config, settings, deadline, progress, reaches[key])
            server_label, server_major, backend = server.label, server.major, server.backend
    except BackendError as err:
        raise ReplayError(str(err)) from None
    except ReplayTimeout:
        raise ReplayError(f"the replay ran past its --timeout of {format_ms(settings.timeout_ms)}; "
                          "the server and its files were removed") from None
    finally:
        progress.clear()
    models = {(migration_key(r), a.statement.index): a for r in model_report.results for a in r.statements}
    attach(report, size_runs, models, config, settings)
    report.replay = {
        "backend": backend,
        "server": server_label,
        "server_major": server_major,
        "pg_version": config.pg_version,
        "sizes": sizes,
        "production_rows": settings.production.to_json(),
        "probes": settings.probes,
        "budgets_ms": dataclasses.asdict(settings.budgets),
        "seeding": [{"size": s.size, "table": r.table, "rows": r.inserted, "ms": round(r.ms, 1)}
                    for s in size_runs for r in s.seeding],
        "migrations": migration_summaries(report, size_runs),
        "timeline": [{"size": s.size, "migrations": s.timelines} for s in size_runs],
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }


@contextlib.contextmanager
def shared(server: Server):
    yield server


def static_model(paths: list[str], config: Config, major: int) -> Report:
    """The lock model at the replay server's major, which is what the server is compared with."""
    from ..check import run

    return run(paths, dataclasses.replace(config, pg_version=major))


# ---------------------------------------------------------------- one history at one size


def replay_history(server: Server, results: list[MigrationResult], size_run: SizeRun, config: Config,
                   settings: ReplaySettings, deadline: float | None, progress: Progress,
                   reach: tuple[list[set[str] | None], list[bool]]) -> None:
    import psycopg

    production = settings.production
    timezone = "UTC" if config.timezone_utc else NON_UTC_TIMEZONE

    def rows_for(schema: str, table: str) -> int:
        rows = scaled_rows(production.rows(schema, table), size_run.size, production.largest)
        size_run.planned_rows[f"{schema}.{table}"] = rows
        return rows

    def seeding_progress(label: str, done: int, total: int) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise ReplayTimeout()
        progress.step(label, done, total)

    refuse = reaches_outside if server.backend == "dsn" else None  # the other backends' servers are ours
    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as seed_conn, \
            contextlib.closing(Seeder(seed_conn, superuser=server.superuser, on_progress=seeding_progress,
                                      helper_conninfo=conninfo)) as seeder, \
            Sessions(conninfo, settings.statement_timeout_ms) as sessions:
        load_schema_dumps(seed_conn, config, size_run, refuse)

        def runner_for(result: MigrationResult) -> Runner:
            name = Path(result.migration.path).name
            reported = not result.migration.meta.get("context")
            return Runner(conninfo, timezone=timezone, guard_ms=settings.statement_timeout_ms, deadline=deadline,
                          on_statement=lambda done, total: progress.step(f"migration {name}", done, total),
                          repeat=settings.repeat if reported else 1, local_server=server.backend == "embedded",
                          refuse=refuse)

        sessions_ahead = [SessionAhead(runner_for(results[0]))] if results else []
        touched, fenced = reach
        try:
            for position, result in enumerate(results):
                following = results[position + 1] if position + 1 < len(results) else None

                def open_next(used=None, following=following) -> bool:
                    """The next migration's session: `used` when it can be reset (True), else a new one."""
                    if following is None:
                        return False
                    sessions_ahead.append(next_session(runner_for(following), used))
                    return isinstance(sessions_ahead[-1], SessionKept)

                replay_migration(result, sessions_ahead.pop(0), open_next, seeder, sessions, size_run, settings,
                                 rows_for, progress, touched[position], seed_ahead(touched, fenced, position))
        finally:
            for ahead in sessions_ahead:
                ahead.discard()


def replay_migration(result: MigrationResult, ahead: SessionAhead | SessionKept, open_next, seeder: Seeder, sessions: Sessions,
                     size_run: SizeRun, settings: ReplaySettings, rows_for, progress: Progress,
                     touched: set[str] | None, seed_later) -> None:
    """Seed what the migration touches, then run it under measurement with probes on its live tables.

    `open_next(conn)` hands this migration's session on to the next one once its statements are
    done (it says whether it took it), or starts opening a new one.
    """
    runner = ahead.runner
    conninfo = runner.conninfo
    reported = not result.migration.meta.get("context")
    size_run.seeding.extend(seeder.seed(rows_for, only=touched, ahead=seed_later))
    progress.step(f"migration {Path(result.migration.path).name}", 0, 1, force=True)
    conn = ahead.take()
    handed_on = False
    try:
        tables = probe_tables(conn, result) if settings.probes and reported else []
        with probing(conninfo, tables, settings.statement_timeout_ms, sessions) as probes, \
                Monitor(conninfo, conn.info.backend_pid, probes, connect=lambda: sessions.take("monitor"),
                        release=lambda used: sessions.give("monitor", used)) as monitor:
            migration_run = runner.run(result, monitor)
            handed_on = open_next(conn)
        if monitor.error is not None:
            size_run.problems.append(f"{result.migration.path}: the locks of statements outside a transaction "
                                     f"could not be sampled: {monitor.error}")
    finally:
        if not handed_on:
            conn.close()
    key = migration_key(result)
    size_run.migrations[key] = migration_run
    for run in migration_run.runs:
        size_run.runs[(key, run.index)] = run
    queries = [q for probe in probes for q in probe.queries]
    if reported:
        size_run.timelines.append(migration_timeline(result.migration.path, migration_run, queries, size_run.origin))
    for run, blocked in attribute_blocking(migration_run.runs, queries, [f"{s}.{t}" for s, t in tables]).items():
        size_run.blocked[(key, run.index)] = blocked


def load_schema_dumps(conn, config: Config, size_run: SizeRun, refuse=None) -> None:
    """The `--schema` dumps describe tables the history never creates: make them first
    (but for statements `refuse` names, which reach outside the replay database)."""
    import psycopg

    from ..parse import split_statements

    for dump in config.schema:
        try:
            text = Path(dump).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the check already reported it
        failed, outside = [], []
        for statement in split_statements(text):
            if statement.node is None:
                continue
            reason = refuse(statement.node) if refuse is not None else None
            if reason is not None:
                outside.append(f"line {statement.line} {reason}")
                continue
            try:
                conn.execute(statement.sql, prepare=False)
            except psycopg.Error as err:
                failed.append(str(err).strip().splitlines()[0])
        if failed:
            size_run.problems.append(f"{len(failed)} statements of the schema dump {dump} failed on the replay "
                                     f"server (roles, extensions?); the first: {failed[0]}")
        if outside:
            size_run.problems.append(f"{len(outside)} statements of the schema dump {dump} were not run on the "
                                     f"--dsn server, as they reach outside the replay database; the first: "
                                     f"{outside[0]}")


def probe_tables(conn, result: MigrationResult) -> list[tuple[str, str]]:
    """The live tables the migration touches, as they exist now."""
    live = sorted({relation for a in result.statements for relation in a.live})
    if not live:
        return []
    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s) ORDER BY 1, 2", [live]).fetchall()
    return [(schema, name) for schema, name in rows]


def attribute_blocking(runs: list[StatementRun], queries: list[ProbeQuery], tables: list[str]) -> dict:
    """Blocked probe time per statement: {run: {table: {"reads": {...}, "writes": {...}}}}.

    A probe query that waited on a lock is put on the statement holding a conflicting lock on
    its table (the first to take one), even if a later statement of the transaction was running
    at the time; otherwise (a row lock) on the statement that was running when it started.
    """
    out: dict[int, dict] = {}
    by_id = {id(run): run for run in runs}

    def entry(run: StatementRun, table: str) -> dict:
        slot = out.setdefault(id(run), {})
        return slot.setdefault(table, {"reads": {"max": 0.0, "total": 0.0}, "writes": {"max": 0.0, "total": 0.0}})

    for run in runs:
        for table in tables:
            if table in run.locks:
                entry(run, table)
    rehearsals = [(r.first_started, r.started) for r in runs if r.first_started < r.started]
    for query in queries:
        if not query.waited or any(start <= query.started < end for start, end in rehearsals):
            continue  # waits on rehearsals that were rolled back are not the migration's
        wanted = "AccessShareLock" if query.kind == "read" else "RowExclusiveLock"
        holders = [r for r in runs if r.locks.get(query.table) and conflicts(r.locks[query.table], wanted)
                   and r.started <= query.ended and max(r.released, r.ended) >= query.started]
        if holders:
            run = min(holders, key=lambda r: r.started)
        else:
            started_before = [r for r in runs if r.started <= query.started]
            if not started_before:
                continue
            run = started_before[-1]
        figures = entry(run, query.table)["reads" if query.kind == "read" else "writes"]
        figures["max"] = max(figures["max"], query.ms)
        figures["total"] += query.ms
    return {by_id[key]: {table: rounded(v) for table, v in value.items()} for key, value in out.items()}


def rounded(value: dict) -> dict:
    return {kind: {name: round(ms, 1) for name, ms in figures.items()} for kind, figures in value.items()}


# ---------------------------------------------------------------- into the report


def attach(report: Report, size_runs: list[SizeRun], models: dict, config: Config, settings: ReplaySettings) -> None:
    selection = RuleSelection(config)
    production = settings.production
    largest = size_runs[-1]
    for problem in (p for s in size_runs for p in s.problems):
        add(report, "MS098", problem, path="", line=0, selection=selection)
    reported_problems = set()
    for size_run in size_runs:
        for seeded in size_run.seeding:
            if seeded.problem and (seeded.table, seeded.problem) not in reported_problems:
                reported_problems.add((seeded.table, seeded.problem))
                add(report, "MS098",
                    f"could not seed {seeded.table} with {seeded.wanted:,} rows at replay size {size_run.size:,}: "
                    f"{seeded.problem}", path="", line=0, selection=selection)
    for result in report.results:
        if result.migration.meta.get("context"):
            continue
        key = migration_key(result)
        predicted: dict[int, float] = {}
        not_run = largest.migrations[key].not_run if key in largest.migrations else {}
        for analysed in result.statements:
            index = analysed.statement.index
            if index in not_run:
                statement = analysed.statement
                add(analysed, "MS098",
                    f"not run on the --dsn server: the statement {not_run[index]}, outside the replay's throwaway "
                    "database, so it was not measured; the replay went on without it",
                    path=statement.origin_path or result.migration.path, line=statement.line,
                    column=statement.column, statement_index=index, selection=selection)
            run = largest.runs.get((key, index))
            if run is None:
                continue
            tables = relevant_tables(analysed, run, largest.planned_rows)
            production_rows = max((production.rows(*split(t)) for t in tables), default=0)
            points = [(statement_rows(tables, s.planned_rows), s.runs[(key, index)].duration_ms)
                      for s in size_runs if (key, index) in s.runs and s.runs[(key, index)].error is None]
            ms, model = predict(points, production_rows, growth_of(analysed.statement.node))
            predicted[index] = ms
            analysed.observed = observed_json(run, largest.blocked.get((key, index), {}), production_rows, ms, model,
                                              statement_rows(tables, largest.planned_rows))
            statement_findings(analysed, result, size_runs, key, models, selection)
        judge_budgets(result, largest, predicted, settings, selection)


def split(qualified: str) -> tuple[str, str]:
    schema, _, name = qualified.partition(".")
    return schema, name


def relevant_tables(analysed: AnalysedStatement, run: StatementRun, planned: dict[str, int]) -> list[str]:
    """The seeded tables whose size the statement's time depends on."""
    return sorted(t for t in set(analysed.live) | set(run.locks) if t in planned)


def statement_rows(tables: list[str], planned: dict[str, int]) -> int:
    return max((planned.get(t, 0) for t in tables), default=0)


def observed_json(run: StatementRun, blocked: dict, production_rows: int, predicted_ms: float, model, rows: int) -> dict:
    out = {
        "locks": [{"relation": relation, "mode": mode} for relation, mode in sorted(run.locks.items())],
        "rewrites": list(run.rewrites),
        "duration_ms": round(run.duration_ms, 3),
        "lock_held_ms": {relation: round(ms, 3) for relation, ms in sorted(run.lock_held_ms.items())},
        "blocked_ms": blocked,
        "predicted_ms": {"rows": production_rows, "ms": round(predicted_ms, 3), "model": model.describe(),
                         "fit": model.to_json()},
        "rows": rows,
        "locks_sampled": not run.exact,
        "cpu_wait_ms": round(run.cpu_wait_ms, 3),
    }
    if run.error is not None:
        out["error"] = run.error
    return out


def statement_findings(analysed: AnalysedStatement, result: MigrationResult, size_runs: list[SizeRun], key: str,
                       models: dict, selection: RuleSelection) -> None:
    statement = analysed.statement
    model = models.get((key, statement.index), analysed)
    seen_problems: list[str] = []
    failures: list[str] = []
    for size_run in size_runs:
        run = size_run.runs.get((key, statement.index))
        if run is None:
            continue
        if run.error is not None:
            failures.append(f"at {size_run.size:,} rows: {run.error}")
        for problem in mismatches(model, run):
            if problem not in seen_problems:
                seen_problems.append(problem)
    where = {"path": statement.origin_path or result.migration.path, "line": statement.line,
             "column": statement.column, "statement_index": statement.index}
    if seen_problems:
        add(analysed, "MS097", "replay disagrees with the lock model: " + "; ".join(seen_problems),
            selection=selection, **where)
    if failures:
        add(analysed, "MS098", "the statement failed on the replay server, so it was not measured: "
            + failures[0], selection=selection, **where)


def judge_budgets(result: MigrationResult, largest: SizeRun, predicted: dict[int, float], settings: ReplaySettings,
                  selection: RuleSelection) -> None:
    key = migration_key(result)
    migration_run = largest.migrations.get(key)
    if migration_run is None:
        return
    budgets = settings.budgets
    by_position = {position: run.index for position, run in enumerate(migration_run.runs)}
    commit_total = 0.0
    for analysed in result.statements:
        run = largest.runs.get((key, analysed.statement.index))
        if run is None or run.error is not None:
            continue
        commit_total += run.commit_ms
        worst = None
        held_predicted = {}
        for relation, mode in run.locks.items():
            through = [by_position[p] for p in run.held_through] or [run.index]
            held = sum(predicted.get(i, 0.0) for i in through) + commit_of(run, migration_run)
            held_predicted[relation] = round(held, 3)
            if relation not in analysed.live:
                continue
            if mode == "AccessExclusiveLock":
                budget, what = budgets.access_exclusive_ms, "AccessExclusiveLock"
            elif blocks_writes(mode):
                budget, what = budgets.blocks_writes_ms, f"{mode} (blocks writes)"
            else:
                continue
            severity = judge(held, budget)
            if severity and (worst is None or held / budget > worst[0]):
                worst = (held / budget, severity, relation, what, held, budget)
        if analysed.observed is not None:
            analysed.observed["predicted_lock_held_ms"] = held_predicted
        if worst is not None:
            _, severity, relation, what, held, budget = worst
            observed = analysed.observed or {}
            rows = observed.get("predicted_ms", {}).get("rows", 0)
            measured = run.lock_held_ms.get(relation, 0.0)
            message = (f"{what} on {relation} would be held for about {format_ms(held)} at {rows:,} rows "
                       f"(budget {format_ms(budget)}); measured {format_ms(measured)} at "
                       f"{observed.get('rows', 0):,} rows")
            statement = analysed.statement
            add(analysed, "MS095", message, path=statement.origin_path or result.migration.path,
                line=statement.line, column=statement.column, statement_index=statement.index,
                selection=selection, severity=severity)
    total = sum(predicted.values()) + commit_total
    severity = judge(total, budgets.migration_ms)
    if severity:
        add(result, "MS095", f"the migration would run for about {format_ms(total)} at production size "
            f"(budget {format_ms(budgets.migration_ms)}); measured {format_ms(migration_run.duration_ms)} at "
            f"{largest.size:,} rows", path=result.migration.path, line=1, selection=selection, severity=severity)


def add(owner, rule: str, message: str, *, path: str, line: int, column: int = 1,
        statement_index: int | None = None, selection: RuleSelection, severity: str | None = None) -> None:
    """Add a finding to `owner.findings` (a new list: an empty one may be shared by several records)."""
    finding = make_finding(rule, message, path=path, line=line, column=column, statement_index=statement_index,
                           selection=selection)
    if finding is None:
        return
    if severity is not None and rule not in selection.severity:
        finding.severity = severity
    owner.findings = [*owner.findings, finding]


def migration_summaries(report: Report, size_runs: list[SizeRun]) -> list[dict]:
    out = []
    for result in report.results:
        if result.migration.meta.get("context"):
            continue
        key = migration_key(result)
        measured = {s.size: round(s.migrations[key].duration_ms, 1) for s in size_runs if key in s.migrations}
        predicted = sum((a.observed or {}).get("predicted_ms", {}).get("ms", 0.0) for a in result.statements)
        out.append({"path": result.migration.path, "measured_ms": measured, "predicted_ms": round(predicted, 1)})
    return out


def commit_of(run: StatementRun, migration_run: MigrationRun) -> float:
    """How long the commit that released this statement's locks took."""
    if run.held_through:
        return migration_run.runs[run.held_through[-1]].commit_ms
    return run.commit_ms
