"""Run one migration's statements on a replay database and observe what each one did.

The migration runs on its own connection (in a new session's state: the one the migration before
ran in, reset with DISCARD ALL), inside a transaction when its runner would open one. For each statement:

* wall time, taken around the statement alone, less the time the server process waited for a
  CPU of the replay machine (Linux schedstat, when the server runs on this machine);
* the relation locks it acquired: inside a transaction, pg_locks of the backend after the
  statement, less what it held before (exact: locks are kept until commit); outside one, the
  locks the monitor saw while it ran (sampled);
* the relations it rewrote: pg_class.relfilenode before and after;
* how long each lock was held: inside a transaction, from the statement to the commit, counted
  as the sum of the migration's own statement times (not the time spent observing them).

Statements run inside a SAVEPOINT, so one that fails (synthetic rows
can break a constraint real rows would not) is reported and the rest of the migration still
runs. A statement the static model says cannot run in a transaction runs outside one.
`stop_on_error` runs a migration as its tool would instead (migrasafe verify): the first statement
that fails ends it, and the transaction it was in is rolled back. `measure=False` leaves out the
catalog and pg_locks reads around each statement, for a caller that only needs it run.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast
from psycopg.pq import TransactionStatus

from ..model import AnalysedStatement, MigrationResult
from ..locks.modes import strongest
from .monitor import Monitor
from .probe import prepare_session
from .rehearsal import worth_rehearsing

SNAPSHOT_SQL = r"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
"""
OWN_LOCKS_SQL = """
SELECT relation::bigint, mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
# The relations the static model names locks on: tables, partitioned tables, views,
# materialized views, sequences and foreign tables; not indexes.
COMPARED_KINDS = {"r", "p", "v", "m", "S", "f"}
REWRITABLE_KINDS = {"r", "m"}
SAVEPOINT = "migrasafe_statement"
# Grace on top of the server-side statement_timeout before the client cancels by itself.
GUARD_GRACE_SECONDS = 5.0


class ReplayTimeout(Exception):
    """The replay ran past its --timeout."""


class GuardCancelled(psycopg.errors.QueryCanceled):
    """The statement ran longer than the replay's statement_timeout."""


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str
    filenode: int

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(eq=False)
class StatementRun:
    index: int  # Statement.index
    duration_ms: float = 0.0
    started: float = 0.0  # perf_counter, of the run that was kept
    first_started: float = 0.0  # of the first of its repetitions
    ended: float = 0.0
    in_transaction: bool = False
    locks: dict[str, str] = field(default_factory=dict)  # relation -> strongest mode it acquired
    held_before: dict[str, set[str]] = field(default_factory=dict)  # modes the transaction already held
    rewrites: list[str] = field(default_factory=list)
    # False when the locks were sampled while it ran (outside a transaction): a lock held
    # between two samples may be missing, so only locks seen can be compared.
    exact: bool = True
    error: str | None = None
    refused_in_transaction: bool = False
    lock_held_ms: dict[str, float] = field(default_factory=dict)
    # Statements of the same transaction from this one on, and the commit: what the locks it
    # took wait for. Indexes into the migration's runs.
    held_through: list[int] = field(default_factory=list)
    commit_ms: float = 0.0
    released: float = 0.0
    best_ms: float | None = None  # fastest rehearsal, when it was repeated
    cpu_wait_ms: float = 0.0  # waited for a CPU of the replay machine, left out of duration_ms


@dataclass
class MigrationRun:
    key: str
    runs: list[StatementRun] = field(default_factory=list)
    # Statements not run because they reach outside the replay database: index -> what they do.
    not_run: dict[int, str] = field(default_factory=dict)
    duration_ms: float = 0.0
    started: float = 0.0
    ended: float = 0.0


class Runner:
    def __init__(self, conninfo: str, *, timezone: str, guard_ms: float, deadline: float | None,
                 on_statement=None, repeat: int = 1, local_server: bool = False, refuse=None,
                 stop_on_error: bool = False, measure: bool = True):
        self.conninfo = conninfo
        self.stop_on_error = stop_on_error
        self.measure = measure
        # node -> what it would do outside the replay database, or None: such a statement is
        # reported and not run (on a server migrasafe does not own, replay/outside.py).
        self.refuse = refuse
        # The server runs on this machine, so its backend's scheduler statistics are readable.
        self.local_server = local_server
        self.backend_pid: int | None = None
        self.repeat = max(1, repeat)
        self.timezone = timezone
        self.guard_ms = guard_ms
        self.deadline = deadline
        self.on_statement = on_statement or (lambda done, total: None)
        self.conn: psycopg.Connection | None = None
        self.monitor: Monitor | None = None

    # ---------------------------------------------------------------- session

    def open(self) -> psycopg.Connection:
        return self.prepare(psycopg.connect(self.conninfo, autocommit=True, connect_timeout=15))

    def adopt(self, conn: psycopg.Connection) -> psycopg.Connection:
        """The session a migration before ran in, back in a new session's state: DISCARD ALL resets
        every setting, drops temporary tables, prepared statements, cursors, LISTENs and advisory
        locks; only the server's caches of the catalog stay warm, as on a migration tool's one
        connection."""
        conn.execute("DISCARD ALL")
        return self.prepare(conn)

    def prepare(self, conn: psycopg.Connection) -> psycopg.Connection:
        prepare_session(conn, self.guard_ms, application_name="migrasafe replay")
        # One process per statement: whether the server adds parallel workers depends on the
        # size of the table and on the cores of the machine, neither of which is production's
        # here; without them the durations grow smoothly with rows and bound production's.
        conn.execute("SELECT set_config('TimeZone', %s, false), set_config('max_parallel_workers_per_gather', '0', "
                     "false), set_config('max_parallel_maintenance_workers', '0', false)", [self.timezone])
        self.conn = conn
        self.backend_pid = conn.info.backend_pid if self.local_server else None
        return conn

    # ---------------------------------------------------------------- one migration

    def run(self, result: MigrationResult, monitor: Monitor | None) -> MigrationRun:
        conn = self.conn
        assert conn is not None
        self.monitor = monitor
        key = result.migration.meta.get("key", result.migration.path)
        migration = MigrationRun(key=key, started=time.perf_counter())
        open_runs: list[StatementRun] = []
        wrapper = result.migration.in_transaction
        if wrapper:
            conn.execute("BEGIN")
        statements = [a for a in result.statements if a.statement.node is not None]
        for number, analysed in enumerate(statements, start=1):
            self.check_deadline()
            node = analysed.statement.node
            if isinstance(node, ast.TransactionStmt):
                self.execute_control(analysed, open_runs, migration)
                continue
            outside = self.refuse(node) if self.refuse is not None else None
            if outside is not None:
                migration.not_run[analysed.statement.index] = outside
                self.on_statement(number, len(statements))
                continue
            run = StatementRun(index=analysed.statement.index)
            migration.runs.append(run)
            in_transaction = conn.info.transaction_status == TransactionStatus.INTRANS
            if not analysed.impact.transactional:
                self.run_outside_transaction(analysed, run, open_runs, migration, reopen=in_transaction)
            elif in_transaction:
                self.run_inside(analysed, run)
                if run.refused_in_transaction:
                    self.run_outside_transaction(analysed, run, open_runs, migration, reopen=True)
                else:
                    open_runs.append(run)
            else:
                self.run_inside(analysed, run, begin=True)
                if run.refused_in_transaction:
                    conn.execute("ROLLBACK")
                    self.run_outside(analysed, run)
                else:
                    self.end_transaction("COMMIT" if run.error is None else "ROLLBACK", [run], migration)
            self.on_statement(number, len(statements))
            if self.stop_on_error and run.error is not None:
                break
        status = conn.info.transaction_status
        failed = self.stop_on_error and any(r.error is not None for r in migration.runs)
        if status == TransactionStatus.INTRANS:
            self.end_transaction("ROLLBACK" if failed else "COMMIT", open_runs, migration)
        elif status == TransactionStatus.INERROR:
            self.end_transaction("ROLLBACK", open_runs, migration)
        migration.ended = time.perf_counter()
        migration.duration_ms = sum(r.duration_ms + r.commit_ms for r in migration.runs)
        return migration

    def check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise ReplayTimeout()

    def execute_control(self, analysed: AnalysedStatement, open_runs: list[StatementRun],
                        migration: MigrationRun) -> None:
        """BEGIN, COMMIT, SAVEPOINT ... as the file says; a transaction's end releases its locks."""
        conn = self.conn
        started = time.perf_counter()
        try:
            conn.execute(analysed.statement.sql)
        except psycopg.Error:
            pass  # COMMIT with no transaction and the like only warn; errors here change nothing we measure
        if conn.info.transaction_status == TransactionStatus.IDLE and open_runs:
            self.finish(open_runs, (time.perf_counter() - started) * 1000, migration)

    def end_transaction(self, command: str, open_runs: list[StatementRun], migration: MigrationRun) -> None:
        started = time.perf_counter()
        self.conn.execute(command)
        self.finish(open_runs, (time.perf_counter() - started) * 1000, migration)

    def finish(self, open_runs: list[StatementRun], commit_ms: float, migration: MigrationRun) -> None:
        """The transaction ended: every lock it held was held from its statement until now."""
        released = time.perf_counter()
        indexes = [migration.runs.index(r) for r in open_runs]
        for position, run in enumerate(open_runs):
            run.held_through = indexes[position:]
            run.commit_ms = commit_ms if position == len(open_runs) - 1 else 0.0
            run.released = released
            held = sum(r.duration_ms for r in open_runs[position:]) + commit_ms
            run.lock_held_ms = {relation: held for relation in run.locks}
        open_runs.clear()

    # ---------------------------------------------------------------- inside a transaction

    def run_inside(self, analysed: AnalysedStatement, run: StatementRun, begin: bool = False) -> None:
        """Run it under a savepoint, with the catalog and locks read before and after.

        `begin` opens the transaction first. What surrounds the statement goes in as few round
        trips as it can (one before, one after, one between rehearsals); the statement itself is
        always sent alone, so its time is its own.
        """
        run.in_transaction = True
        rehearsing = self.repeat > 1 and worth_rehearsing(analysed)
        first_savepoint = f"SAVEPOINT {SAVEPOINT}_trial" if rehearsing else f"SAVEPOINT {SAVEPOINT}"
        opening = ["BEGIN"] if begin else []
        before, held = {}, set()
        if self.measure:
            catalog, locks = self.batch(opening + [SNAPSHOT_SQL, OWN_LOCKS_SQL, first_savepoint])
            before, held = relations(catalog), lock_set(locks)
        else:
            self.batch(opening + [first_savepoint])
        if rehearsing:
            self.rehearse(analysed, run)
        failed = False
        try:
            self.timed(analysed.statement.sql, run)
        except psycopg.errors.ActiveSqlTransaction:
            run.refused_in_transaction = True
            failed = True
        except psycopg.Error as err:
            run.error = describe(err)
            failed = True
        if run.best_ms is not None:
            run.duration_ms = min(run.duration_ms, run.best_ms)
        if failed:
            self.batch([f"ROLLBACK TO SAVEPOINT {SAVEPOINT}", f"RELEASE SAVEPOINT {SAVEPOINT}"])
            return
        if not self.measure:
            self.batch([f"RELEASE SAVEPOINT {SAVEPOINT}"])
            return
        locks, catalog = self.batch([f"RELEASE SAVEPOINT {SAVEPOINT}", OWN_LOCKS_SQL, SNAPSHOT_SQL])
        acquired = lock_set(locks) - held
        run.locks = strongest_by_relation(acquired, before)
        run.held_before = modes_by_relation(held, before)
        run.rewrites = rewritten(before, relations(catalog))

    def rehearse(self, analysed: AnalysedStatement, run: StatementRun) -> None:
        """Run it and roll it back, repeat - 1 times: the kept run's time is the best of all.

        The machine's other work only ever adds time, so the minimum is the steadiest figure.
        It starts with the trial savepoint made and leaves the kept run's savepoint made.
        """
        trial_savepoint = f"{SAVEPOINT}_trial"
        undo = [f"ROLLBACK TO SAVEPOINT {trial_savepoint}", f"RELEASE SAVEPOINT {trial_savepoint}"]
        first = None
        for number in range(1, self.repeat):
            trial = StatementRun(index=run.index)
            try:
                self.timed(analysed.statement.sql, trial)
            except psycopg.Error:
                self.batch(undo + [f"SAVEPOINT {SAVEPOINT}"])
                return  # the kept run will fail the same way and say why
            first = first or trial.started
            self.batch(undo + [f"SAVEPOINT {SAVEPOINT}" if number == self.repeat - 1 else f"SAVEPOINT {trial_savepoint}"])
            run.best_ms = trial.duration_ms if run.best_ms is None else min(run.best_ms, trial.duration_ms)
        run.first_started = first

    def batch(self, commands: list[str]) -> list[list[tuple]]:
        """Send `commands` in one round trip; the rows of each one that returns rows, in order."""
        cursor = self.conn.execute("; ".join(command.strip() for command in commands), prepare=False)
        sets = []
        while True:
            if cursor.description is not None:
                sets.append(cursor.fetchall())
            if not cursor.nextset():
                return sets

    # ---------------------------------------------------------------- outside a transaction

    def run_outside_transaction(self, analysed, run, open_runs, migration, *, reopen: bool) -> None:
        conn = self.conn
        if conn.info.transaction_status != TransactionStatus.IDLE:
            self.end_transaction("COMMIT", open_runs, migration)
        self.run_outside(analysed, run)
        if reopen:
            conn.execute("BEGIN")

    def run_outside(self, analysed: AnalysedStatement, run: StatementRun) -> None:
        conn = self.conn
        run.in_transaction = False
        run.exact = False
        before = snapshot(conn) if self.measure else {}
        # The monitor reads the backend's locks while it runs: they are gone once it returns.
        watching = self.monitor.sampling() if self.monitor is not None and self.measure else contextlib.nullcontext()
        try:
            with watching:
                self.timed(analysed.statement.sql, run)
        except psycopg.Error as err:
            run.error = describe(err)
            return
        finally:
            run.released = time.perf_counter()
        if not self.measure:
            return
        seen = self.monitor.locks_between(run.started, run.ended) if self.monitor is not None else set()
        run.locks = strongest_by_relation(seen, before)
        run.lock_held_ms = {relation: run.duration_ms for relation in run.locks}
        run.rewrites = rewritten(before, snapshot(conn))

    # ---------------------------------------------------------------- the statement itself

    def timed(self, sql: str, run: StatementRun) -> None:
        """Execute with the wall-clock guard: cancelled after statement_timeout plus a grace."""
        limit = self.guard_ms / 1000 + GUARD_GRACE_SECONDS
        if self.deadline is not None:
            limit = min(limit, max(self.deadline - time.perf_counter(), 0.1))
        fired = threading.Event()

        def cancel() -> None:
            fired.set()
            self.conn.cancel()

        timer = threading.Timer(limit, cancel)
        timer.daemon = True
        if self.monitor is not None:
            self.monitor.forget_before(time.perf_counter() - 1.0)
        queued_before = runqueue_ns(self.backend_pid)
        run.started = time.perf_counter()
        run.first_started = run.first_started or run.started
        timer.start()
        try:
            self.conn.execute(sql, prepare=False)
        except psycopg.errors.QueryCanceled as err:
            run.ended = time.perf_counter()
            run.duration_ms = (run.ended - run.started) * 1000
            self.check_deadline()
            if fired.is_set() or "statement timeout" in str(err):
                raise GuardCancelled(f"cancelled by the statement_timeout guard after "
                                     f"{run.duration_ms / 1000:.1f}s") from err
            raise
        finally:
            timer.cancel()
            if not run.ended:
                run.ended = time.perf_counter()
                run.duration_ms = (run.ended - run.started) * 1000
            queued_after = runqueue_ns(self.backend_pid)
            if queued_before is not None and queued_after is not None:
                # Time the backend was ready to run but waited for a CPU is this machine's other
                # work, not the migration's: production would not wait for it.
                run.cpu_wait_ms = min(max((queued_after - queued_before) / 1e6, 0.0), run.duration_ms)
                run.duration_ms -= run.cpu_wait_ms


def runqueue_ns(pid: int | None) -> int | None:
    """Nanoseconds the process has spent runnable but waiting for a CPU (Linux schedstat)."""
    if pid is None:
        return None
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def snapshot(conn: psycopg.Connection) -> dict[int, Relation]:
    return relations(conn.execute(SNAPSHOT_SQL).fetchall())


def relations(rows) -> dict[int, Relation]:
    return {oid: Relation(schema, name, kind, filenode) for oid, schema, name, kind, filenode in rows}


def own_locks(conn: psycopg.Connection) -> set[tuple[int, str]]:
    return lock_set(conn.execute(OWN_LOCKS_SQL).fetchall())


def lock_set(rows) -> set[tuple[int, str]]:
    return {(oid, mode) for oid, mode in rows}


def strongest_by_relation(locks: set[tuple[int, str]], before: dict[int, Relation]) -> dict[str, str]:
    """Strongest mode per relation that existed before the statement, of the kinds compared."""
    return {name: strongest(modes) for name, modes in modes_by_relation(locks, before).items()}


def modes_by_relation(locks: set[tuple[int, str]], before: dict[int, Relation]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for oid, mode in locks:
        relation = before.get(oid)
        if relation is not None and relation.kind in COMPARED_KINDS:
            out.setdefault(relation.qualified, set()).add(mode)
    return out


def rewritten(before: dict[int, Relation], after: dict[int, Relation]) -> list[str]:
    return sorted(r.qualified for oid, r in before.items()
                  if r.kind in REWRITABLE_KINDS and oid in after and after[oid].filenode != r.filenode)


def describe(err: psycopg.Error) -> str:
    message = err.diag.message_primary if getattr(err, "diag", None) is not None else None
    message = message or (str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
    return f"{err.sqlstate}: {message}" if err.sqlstate else message
