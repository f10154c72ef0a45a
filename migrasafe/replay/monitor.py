"""Watch the server while a migration runs, only when there is something to see.

Two questions need the server's own view, from a connection of its own:

* which relation locks the migration's backend holds while a statement runs outside a
  transaction (its locks are gone by the time it returns): the runner asks for them around
  such a statement (`sampling()`), and pg_locks is read every few milliseconds until it ends;
* whether a probe query waited on a lock, so a query counts as blocked only when the server says
  it waited, not because the machine was busy. A probe query answers in well under a
  millisecond unless something holds it up, so pg_stat_activity is read only once one has been
  running for SUSPECT_SECONDS, and again every few milliseconds while it still runs and has not
  been seen waiting; once seen, that query needs no more reads.

Between those moments the monitor sleeps and sends nothing, so it takes no CPU from the
statements being timed.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Callable

import psycopg

if TYPE_CHECKING:
    from .probe import Probe

POLL_SECONDS = 0.004
SUSPECT_SECONDS = 0.001
STOP_GRACE_SECONDS = 5.0

MONITOR_SQL = """
SELECT 'lock', relation::bigint, mode FROM pg_locks
WHERE pid = %(pid)s AND locktype = 'relation' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
UNION ALL
SELECT 'wait', pid, NULL FROM pg_stat_activity WHERE pid = ANY(%(probes)s) AND wait_event_type = 'Lock'
"""


class Monitor:
    """Samples the migration backend's relation locks on request and the probes' lock waits."""

    def __init__(self, conninfo: str, migration_pid: int, probes: list[Probe],
                 connect: Callable[[], psycopg.Connection] | None = None,
                 release: Callable[[psycopg.Connection], None] | None = None):
        self.conninfo = conninfo
        self.migration_pid = migration_pid
        self.probes = {p.pid: p for p in probes if p.pid is not None}
        # (sent, received, oid, mode): pg_locks was read at some moment between sent and received.
        self.samples: list[tuple[float, float, int, str]] = []
        self.reads = 0  # queries sent to the server
        self.error: str | None = None
        self._connect = connect or (lambda: psycopg.connect(conninfo, autocommit=True, connect_timeout=10))
        self._release = release or (lambda conn: conn.close())
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()  # guards samples
        self._opening = threading.Lock()  # the connection is opened by whichever thread needs it first
        self._wake = threading.Condition()
        self._sampling = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        for probe in self.probes.values():
            probe.on_query = self.notify

    def __enter__(self) -> Monitor:
        if self.probes:
            self._start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for probe in self.probes.values():
            probe.on_query = None
        if self._thread is not None:
            self._thread.join(STOP_GRACE_SECONDS)
        if self._conn is not None and (self._thread is None or not self._thread.is_alive()):
            self._release(self._conn)
            self._conn = None

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="replay-monitor", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """A probe sent a query: the monitor works out when it would become suspect."""
        with self._wake:
            self._wake.notify_all()

    @contextlib.contextmanager
    def sampling(self):
        """Read the migration backend's locks every few milliseconds until the block ends.

        The connection is open before the block starts, so the first reading follows the
        statement's start by one poll at most.
        """
        if self.error is None and self._ensure_connection():
            with self._wake:
                self._sampling += 1
                self._wake.notify_all()
            self._start()
        try:
            yield
        finally:
            with self._wake:
                self._sampling = max(self._sampling - 1, 0)

    def _ensure_connection(self) -> bool:
        with self._opening:
            if self._conn is None and self.error is None:
                try:
                    self._conn = self._connect()
                except psycopg.Error as err:
                    self.error = first_line(err)
            return self._conn is not None

    def run(self) -> None:
        try:
            while True:
                with self._wake:
                    due = self._wait_for_work()
                if due is None:
                    return
                if not self._ensure_connection():
                    return
                self._read(due)
                with self._wake:
                    if self._stopping:
                        return
                    # The next reading comes one poll later, whatever the probes do meanwhile.
                    deadline = time.perf_counter() + POLL_SECONDS
                    while not self._stopping and time.perf_counter() < deadline:
                        self._wake.wait(max(deadline - time.perf_counter(), 0))
        except psycopg.Error as err:
            self.error = first_line(err)

    def _wait_for_work(self) -> dict[int, int] | None:
        """Sleep until there is something to read; the probes to ask about (pid -> the query's
        sequence number), or None once stopping."""
        while not self._stopping:
            now = time.perf_counter()
            due, later = {}, []
            for pid, probe in self.probes.items():
                since, sequence = probe.running_since, probe.sequence
                if since is None or probe.waited_sequence == sequence:
                    continue  # idle, or this query was already seen waiting
                if now - since >= SUSPECT_SECONDS:
                    due[pid] = sequence
                else:
                    later.append(since + SUSPECT_SECONDS)
            if due or self._sampling:
                return due
            self._wake.wait(max(min(later) - now, 0) if later else None)
        return None

    def _read(self, due: dict[int, int]) -> None:
        sampling = self._sampling > 0
        self.reads += 1
        sent = time.perf_counter()
        rows = self._conn.execute(MONITOR_SQL, {"pid": self.migration_pid if sampling else 0,
                                                "probes": list(due)}).fetchall()
        received = time.perf_counter()
        with self._lock:
            for kind, number, mode in rows:
                if kind == "lock":
                    self.samples.append((sent, received, number, mode))
                elif number in due:
                    self.probes[number].mark_waiting(due[number])

    def locks_between(self, started: float, ended: float) -> set[tuple[int, str]]:
        """The locks seen by readings made wholly between started and ended.

        A reading sent while the statement before was still running can come back after this one
        started: what it saw belongs to the one before, so only a reading sent after the start
        and answered before the end is this statement's.
        """
        with self._lock:
            return {(oid, mode) for sent, received, oid, mode in self.samples
                    if started <= sent and received <= ended}

    def forget_before(self, moment: float) -> None:
        with self._lock:
            self.samples = [s for s in self.samples if s[1] >= moment]


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
