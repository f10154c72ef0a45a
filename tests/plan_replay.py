"""Running planned migrations the way each tool runs them, while an application workload runs.

`run_file` sends a migration to the server as its tool would: psql statement by statement,
Flyway statement by statement inside or outside its transaction, golang-migrate the whole file
as one query string, dbmate and diesel the section as one query string inside BEGIN/COMMIT
unless the file opts out. `Workload` keeps an application's queries running on another
connection, records how long each one took, and samples from a third connection which sessions
its session waits on (`queued_behind_a_waiting_lock`): a count of observations, not a duration.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import psycopg

from migrasafe.config import Config
from migrasafe.model import Migration
from migrasafe.sources import read_migrations


def read_folder(folder, fmt: str) -> dict[str, Migration]:
    """The folder's migrations by resolved file path."""
    migrations, findings = read_migrations([str(folder)], Config(format=fmt))
    assert not [f for f in findings if f.severity == "error"], findings
    return {m.meta["file"]: m for m in migrations}


def run_file(conn: psycopg.Connection, migration: Migration) -> None:
    fmt = migration.format
    if fmt in ("golang-migrate", "dbmate", "diesel", "popx"):
        wrapped = migration.in_transaction and not migration.meta.get("implicit_transaction")
        if wrapped:
            with conn.transaction():
                conn.execute(migration.text)
        else:
            conn.execute(migration.text)
        return
    statements = [s.sql for s in migration.statements]
    if fmt == "flyway" and migration.in_transaction:
        with conn.transaction():
            for sql in statements:
                conn.execute(sql)
        return
    for sql in statements:  # psql, and Flyway outside a transaction: one statement at a time
        conn.execute(sql)


@dataclass
class Query:
    """One application query; `{id}` is a row the workload owns, `{n}` a fresh number."""

    sql: str
    inserts: bool = False

    def text(self, rng: random.Random) -> str:
        return self.sql.format(id=rng.randint(1, 100), n=rng.randint(1, 10**9))


@dataclass
class Workload:
    uri: str
    queries: list[Query] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inserted: int = 0
    executed: int = 0
    # Each time the workload's session was seen waiting behind a session that itself waited for
    # a lock: (sample number, blocker pid, blocker query). That is the queue a migration step
    # forms when it waits for a strong lock; a brief wait behind a lock already granted is not.
    queued: list[tuple[int, int, str]] = field(default_factory=list)
    samples: int = 0

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Condition()
        self._generation = self._seen = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._pid: int | None = None
        self._connected = threading.Event()

    def switch(self, queries: list[Query]) -> None:
        """Run `queries` from now on; returns once no query of the previous set is in flight."""
        with self._lock:
            self.queries = list(queries)
            self._generation += 1
            self._lock.wait_for(lambda: self._seen == self._generation or not self._thread.is_alive(), timeout=30)

    def __enter__(self) -> "Workload":
        self._thread.start()
        assert self._connected.wait(30), "the workload did not connect"
        self._watcher.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._watcher.join(timeout=30)

    def _run(self) -> None:
        rng = random.Random(7)
        with psycopg.connect(self.uri, autocommit=True) as conn:
            self._pid = conn.info.backend_pid
            self._connected.set()
            while not self._stop.is_set():
                with self._lock:
                    queries = self.queries
                    self._seen = self._generation
                    self._lock.notify_all()
                if not queries:
                    time.sleep(0.005)
                    continue
                query = rng.choice(queries)
                text = query.text(rng)
                started = time.monotonic()
                try:
                    cursor = conn.execute(text)
                    ok = True
                except psycopg.Error as err:
                    ok = False
                    self.errors.append(f"{text}: {err}".strip())
                elapsed = time.monotonic() - started
                with self._lock:
                    self.latencies.append(elapsed)
                    self.executed += 1
                    if ok and query.inserts:
                        self.inserted += cursor.rowcount

    def _watch(self) -> None:
        # Autovacuum is left out as the root of a queue: the server cancels it for whoever waits.
        sample = """
            SELECT b.pid, left(b.query, 200)
            FROM pg_stat_activity b
            WHERE b.pid = ANY(pg_blocking_pids(%s))
              AND EXISTS (SELECT 1 FROM pg_stat_activity r
                          WHERE r.pid = ANY(pg_blocking_pids(b.pid))
                            AND r.backend_type IS DISTINCT FROM 'autovacuum worker')"""
        with psycopg.connect(self.uri, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(sample, [self._pid]).fetchall()
                with self._lock:
                    self.samples += 1
                    self.queued.extend((self.samples, pid, query) for pid, query in rows)
                    self._lock.notify_all()
                time.sleep(0.002)

    def sample_number(self) -> int:
        with self._lock:
            return self.samples

    def queued_since(self, sample: int) -> list[tuple[int, int, str]]:
        """The queueing seen in samples taken after `sample`."""
        with self._lock:
            return [seen for seen in self.queued if seen[0] > sample]

    def wait_for(self, predicate, timeout: float = 60) -> bool:
        """Wait until `predicate()` holds, rechecked after every sample; False at the deadline."""
        with self._lock:
            return self._lock.wait_for(predicate, timeout=timeout)

    def count(self) -> int:
        with self._lock:
            return self.executed



def run_queries(conn: psycopg.Connection, queries: list[Query], rng: random.Random) -> int:
    """Run each query once; returns the rows inserted. A failing query fails the caller."""
    inserted = 0
    for query in queries:
        cursor = conn.execute(query.text(rng))
        if query.inserts:
            inserted += cursor.rowcount
    return inserted
