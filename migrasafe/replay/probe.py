"""Traffic on the live tables while a migration runs, and how long that traffic had to wait.

For every live table the migration touches, two threads with their own connections loop: a
reader (`SELECT 1 FROM t LIMIT 1`, the AccessShareLock every query takes) and a writer (an UPDATE
that sets a column of one row to itself: RowExclusiveLock and a row lock, as an application's
write takes, without changing any value a later statement could trip over).

A `Monitor` thread polls pg_locks and pg_stat_activity every few milliseconds. It records the
relation locks the migration's backend holds (for statements that run outside a transaction,
whose locks are gone by the time they return) and which probe is waiting on a lock, so a probe
query counts as blocked only when the server says it waited, not because the machine was busy.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql as q

POLL_SECONDS = 0.004
PROBE_PAUSE_SECONDS = 0.01
STOP_GRACE_SECONDS = 5.0

MONITOR_SQL = """
SELECT 'lock', relation::bigint, mode FROM pg_locks
WHERE pid = %(pid)s AND locktype = 'relation' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
UNION ALL
SELECT 'wait', pid, NULL FROM pg_stat_activity WHERE pid = ANY(%(probes)s) AND wait_event_type = 'Lock'
"""


@dataclass
class ProbeQuery:
    table: str
    kind: str  # "read" or "write"
    started: float
    ended: float
    waited: bool

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class Probe:
    conninfo: str
    schema: str
    table: str
    kind: str
    guard_ms: float
    queries: list[ProbeQuery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pid: int | None = None
    _sequence: int = 0
    _waited_sequence: int = -1
    _stop: threading.Event = field(default_factory=threading.Event)
    _conn: psycopg.Connection | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def start(self, wait: bool = True) -> None:
        self._thread = threading.Thread(target=self.run, name=f"probe-{self.kind}-{self.table}", daemon=True)
        self._thread.start()
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        self._ready.wait(10)

    def mark_waiting(self) -> None:
        self._waited_sequence = self._sequence

    def run(self) -> None:
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            self.errors.append(str(err).strip().splitlines()[0])
            self._ready.set()
            return
        self._conn = conn
        with conn:
            self.pid = conn.info.backend_pid
            prepare_session(conn, self.guard_ms, application_name=f"migrasafe probe {self.kind}",
                            yield_on_deadlock=True)
            statement = self.statement(conn)
            self._ready.set()
            while not self._stop.is_set():
                self._sequence += 1
                started = time.perf_counter()
                try:
                    conn.execute(statement)
                except psycopg.errors.UndefinedTable:
                    self.record(started)
                    break  # the migration dropped or renamed it: nothing left to probe
                except psycopg.errors.UndefinedColumn:
                    self.record(started)
                    statement = self.statement(conn)
                except psycopg.Error as err:
                    self.record(started)
                    if self._stop.is_set():
                        break
                    self.errors.append(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
                else:
                    self.record(started)
                self._stop.wait(PROBE_PAUSE_SECONDS)

    def record(self, started: float) -> None:
        self.queries.append(ProbeQuery(self.qualified, self.kind, started, time.perf_counter(),
                                       self._waited_sequence == self._sequence))

    def statement(self, conn: psycopg.Connection) -> q.Composed:
        table = q.Identifier(self.schema, self.table)
        if self.kind == "read":
            return q.SQL("SELECT 1 FROM {} LIMIT 1").format(table)
        column = first_column(conn, self.schema, self.table)
        if column is None:
            return q.SQL("SELECT 1 FROM {} LIMIT 1").format(table)
        name = q.Identifier(column)
        return q.SQL("UPDATE {t} SET {c} = {c} WHERE ctid = (SELECT ctid FROM {t} LIMIT 1)").format(t=table, c=name)

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        if self._thread is None:
            return
        self._thread.join(STOP_GRACE_SECONDS)
        if self._thread.is_alive() and self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.cancel()
            self._thread.join(STOP_GRACE_SECONDS)


def first_column(conn: psycopg.Connection, schema: str, table: str) -> str | None:
    row = conn.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attgenerated = '' AND a.attidentity <> 'a' ORDER BY a.attnum LIMIT 1",
        [schema, table]).fetchone()
    return row[0] if row else None


def prepare_session(conn: psycopg.Connection, guard_ms: float, application_name: str, *,
                    yield_on_deadlock: bool = False) -> None:
    conn.execute("SELECT set_config('statement_timeout', %s, false), set_config('application_name', %s, false)",
                 [f"{int(guard_ms)}ms", application_name])
    if yield_on_deadlock:
        # The backend whose deadlock check runs first is the one cancelled: a probe caught in a
        # cycle with the migration must give way at once. Only a superuser may set it; others
        # keep the server's 1 s.
        with contextlib.suppress(psycopg.Error):
            conn.execute("SET deadlock_timeout = '50ms'")


class Monitor:
    """Polls the migration backend's relation locks and the probes' lock waits."""

    def __init__(self, conninfo: str, migration_pid: int, probes: list[Probe]):
        self.conninfo = conninfo
        self.migration_pid = migration_pid
        self.probes = {p.pid: p for p in probes if p.pid is not None}
        self.samples: list[tuple[float, int, str]] = []  # (time, oid, mode)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def __enter__(self) -> Monitor:
        self._thread = threading.Thread(target=self.run, name="replay-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_GRACE_SECONDS)

    def run(self) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
                params = {"pid": self.migration_pid, "probes": list(self.probes)}
                while not self._stop.is_set():
                    rows = conn.execute(MONITOR_SQL, params).fetchall()
                    now = time.perf_counter()
                    with self._lock:
                        for kind, number, mode in rows:
                            if kind == "lock":
                                self.samples.append((now, number, mode))
                            elif number in self.probes:
                                self.probes[number].mark_waiting()
                    self._stop.wait(POLL_SECONDS)
        except psycopg.Error as err:
            self.error = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__

    def locks_between(self, started: float, ended: float) -> set[tuple[int, str]]:
        with self._lock:
            return {(oid, mode) for at, oid, mode in self.samples if started <= at <= ended}

    def forget_before(self, moment: float) -> None:
        with self._lock:
            self.samples = [s for s in self.samples if s[0] >= moment]


@contextlib.contextmanager
def probing(conninfo: str, tables: list[tuple[str, str]], guard_ms: float):
    """Start a reader and a writer on each table; yield the probes; stop them on exit."""
    probes = [Probe(conninfo, schema, table, kind, guard_ms) for schema, table in tables for kind in ("read", "write")]
    try:
        # All connect at once: each has its own session to open, and none needs another's.
        for probe in probes:
            probe.start(wait=False)
        for probe in probes:
            probe.wait_ready()
        yield probes
    finally:
        for probe in probes:
            probe.stop()
        for probe in probes:
            probe.join()
