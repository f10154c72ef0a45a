"""Traffic on the live tables while a migration runs, and how long that traffic had to wait.

For every live table the migration touches, two threads with their own connections loop: a
reader (`SELECT 1 FROM t LIMIT 1`, the AccessShareLock every query takes) and a writer (an UPDATE
that sets a column of one row to itself: RowExclusiveLock and a row lock, as an application's
write takes, without changing any value a later statement could trip over).

Each probe says when its query starts and ends, so the monitor (monitor.py) asks the server
whether it waits on a lock only when a query takes longer than a query on a free table does.
`Sessions` keeps the probes' connections for the next migration on the same database: a probe
session holds nothing between its queries, and opening one costs more than most statements.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import psycopg
from psycopg import sql as q
from psycopg.pq import TransactionStatus

PROBE_PAUSE_SECONDS = 0.01
STOP_GRACE_SECONDS = 5.0


@dataclass
class ProbeQuery:
    table: str
    kind: str  # "read" or "write"
    started: float
    ended: float
    waited: bool
    sequence: int = 0  # the probe's count of queries sent

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
    sessions: Sessions | None = None
    queries: list[ProbeQuery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pid: int | None = None
    sequence: int = 0  # of the query running or last run
    waited_sequence: int = -1  # the query the server was seen waiting on a lock
    running_since: float | None = None  # perf_counter when the running query was sent
    on_query: Callable[[], None] | None = None  # told when a query is sent
    _stop: threading.Event = field(default_factory=threading.Event)
    _conn: psycopg.Connection | None = None
    _cancelled: bool = False
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _marking: threading.Lock = field(default_factory=threading.Lock)

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

    def mark_waiting(self, sequence: int) -> None:
        """The server saw query `sequence` wait on a lock (it may have ended since)."""
        with self._marking:
            self.waited_sequence = sequence
            if self.queries and self.queries[-1].sequence == sequence:
                self.queries[-1].waited = True

    def run(self) -> None:
        sessions = self.sessions or Sessions(self.conninfo, self.guard_ms)
        try:
            conn = sessions.take(self.kind)
        except psycopg.Error as err:
            self.errors.append(str(err).strip().splitlines()[0])
            self._ready.set()
            return
        self._conn = conn
        try:
            self.pid = conn.info.backend_pid
            statement = self.statement(conn)
            self._ready.set()
            self.loop(conn, statement)
        except psycopg.Error as err:
            self.errors.append(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
        finally:
            self._ready.set()
            self.running_since = None
            sessions.give(self.kind, conn, reusable=not self._cancelled)
            if self.sessions is None:
                sessions.close()

    def loop(self, conn: psycopg.Connection, statement: q.Composed) -> None:
        while not self._stop.is_set():
            self.sequence += 1
            started = time.perf_counter()
            self.running_since = started
            if self.on_query is not None:
                self.on_query()
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
                if self._stop.is_set() or conn.closed:
                    break
                self.errors.append(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
            else:
                self.record(started)
            self._stop.wait(PROBE_PAUSE_SECONDS)

    def record(self, started: float) -> None:
        ended = time.perf_counter()
        self.running_since = None
        with self._marking:
            self.queries.append(ProbeQuery(self.qualified, self.kind, started, ended,
                                           self.waited_sequence == self.sequence, self.sequence))

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
            # A cancel could land on whatever the session runs next: it is not reused.
            self._cancelled = True
            with contextlib.suppress(Exception):
                self._conn.cancel()
            self._thread.join(STOP_GRACE_SECONDS)


class Sessions:
    """Open probe and monitor sessions on one database, kept between migrations."""

    def __init__(self, conninfo: str, guard_ms: float):
        self.conninfo = conninfo
        self.guard_ms = guard_ms
        self._idle: dict[str, list[psycopg.Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def take(self, role: str) -> psycopg.Connection:
        """A session for `role` ("read", "write" or "monitor"), set up for it."""
        with self._lock:
            idle = self._idle.get(role)
            if idle:
                return idle.pop()
        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
        try:
            if role == "monitor":
                conn.execute("SELECT set_config('application_name', 'migrasafe monitor', false)")
            else:
                prepare_session(conn, self.guard_ms, application_name=f"migrasafe probe {role}", yield_on_deadlock=True)
        except psycopg.Error:
            conn.close()
            raise
        return conn

    def give(self, role: str, conn: psycopg.Connection, reusable: bool = True) -> None:
        """Back from a migration: kept while it is healthy and idle, closed otherwise."""
        healthy = reusable and not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        with self._lock:
            if healthy and not self._closed:
                self._idle.setdefault(role, []).append(conn)
                return
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conn in (c for group in idle.values() for c in group):
            with contextlib.suppress(Exception):
                conn.close()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


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


@contextlib.contextmanager
def probing(conninfo: str, tables: list[tuple[str, str]], guard_ms: float, sessions: Sessions | None = None):
    """Start a reader and a writer on each table; yield the probes; stop them on exit.

    With `sessions`, the probes take their connections from it and give them back."""
    probes = [Probe(conninfo, schema, table, kind, guard_ms, sessions)
              for schema, table in tables for kind in ("read", "write")]
    try:
        # All connect at once (those without a kept session): none needs another's.
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
