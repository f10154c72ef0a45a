"""The probes and the monitor: waits seen from the server, reads only when a query is held up,
sessions kept for the next migration."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

from migrasafe.replay.monitor import Monitor
from migrasafe.replay.probe import Probe, Sessions, probing


def wait_until(condition, timeout: float = 60) -> bool:
    """Whether `condition()` came true before a deadline generous enough for a busy machine."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.002)
    return True


@pytest.fixture(scope="module")
def database():
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18) as server, server.database() as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, v text); "
                         "INSERT INTO t SELECT g, g::text FROM generate_series(1, 1000) g")
        yield conninfo


def test_a_locked_table_blocks_both_probes_and_the_monitor_sees_it(database):
    with Sessions(database, 60_000) as sessions, psycopg.connect(database, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        with probing(database, [("public", "t")], 60_000, sessions) as probes, \
                Monitor(database, holder.info.backend_pid, probes, connect=lambda: sessions.take("monitor"),
                        release=lambda used: sessions.give("monitor", used)) as monitor:
            # The lock is held until the server has been seen holding up both probes, however
            # long a busy machine takes to get there.
            assert wait_until(lambda: all(probe.running_since is not None
                                          and probe.waited_sequence == probe.sequence for probe in probes))
            committed = time.perf_counter()
            holder.execute("COMMIT")
            assert wait_until(lambda: all(probe.queries and probe.queries[-1].ended > committed for probe in probes))
        assert monitor.error is None and monitor.reads >= 1
        for probe in probes:
            waited = [query for query in probe.queries if query.waited]
            assert waited, probe.kind
            # The one held until the commit.
            assert any(query.started < committed < query.ended for query in waited), probe.kind
        first_pids = sorted(probe.pid for probe in probes)
        # The next migration's probes get the same sessions back.
        with probing(database, [("public", "t")], 60_000, sessions) as again:
            time.sleep(0.05)
        assert sorted(probe.pid for probe in again) == first_pids
        assert not [query for probe in again for query in probe.queries if query.waited]


def test_a_session_that_broke_is_not_kept(database):
    with Sessions(database, 60_000) as sessions, psycopg.connect(database, autocommit=True) as admin:
        broken = sessions.take("read")
        admin.execute("SELECT pg_terminate_backend(%s)", [broken.info.backend_pid])
        with pytest.raises(psycopg.OperationalError):
            broken.execute("SELECT 1")
        sessions.give("read", broken)
        fresh = sessions.take("read")
        assert fresh is not broken and fresh.execute("SELECT 1").fetchone() == (1,)
        sessions.give("read", fresh)
        assert sessions.take("read") is fresh


class FakeConnection:
    """Answers the monitor's query as a server would: `waiting` pids wait on a lock."""

    def __init__(self, waiting: set[int]):
        self.waiting = waiting
        self.asked: list[list[int]] = []

    def execute(self, sql, params):
        self.asked.append(sorted(params["probes"]))
        rows = [("wait", pid, None) for pid in params["probes"] if pid in self.waiting]
        return type("Result", (), {"fetchall": lambda self: rows})()


def fake_probe(pid: int) -> Probe:
    probe = Probe("", "public", "t", "read", 1000)
    probe.pid = pid
    return probe


def test_the_monitor_reads_only_for_a_query_held_up_and_once_it_is_seen_waiting(monkeypatch):
    import migrasafe.replay.monitor as monitor_module

    idle, held = fake_probe(1), fake_probe(2)
    server = FakeConnection(waiting={2})
    with Monitor("", 99, [idle, held], connect=lambda: server, release=lambda used: None) as monitor:
        time.sleep(0.05)
        assert monitor.reads == 0  # no query running: nothing to ask
        held.sequence, held.running_since = 1, time.perf_counter()
        held.on_query()
        assert wait_until(lambda: held.waited_sequence == 1)
        time.sleep(0.05)
        # Seen waiting once is enough: the same query is not asked about again.
        assert server.asked == [[2]] and monitor.reads == 1
        # A query that answers before it becomes suspect is never asked about. The threshold is
        # raised so that "at once" does not depend on how quickly a busy machine runs this thread.
        monkeypatch.setattr(monitor_module, "SUSPECT_SECONDS", 3600.0)
        idle.sequence, idle.running_since = 1, time.perf_counter()
        idle.on_query()
        idle.running_since = None
        idle.on_query()  # the monitor looks again, and finds nothing running
        time.sleep(0.05)
        assert monitor.reads == 1


def test_sampling_reads_the_backend_locks_until_the_block_ends():
    server = FakeConnection(waiting=set())
    reads_during = threading.Event()
    with Monitor("", 99, [], connect=lambda: server, release=lambda used: None) as monitor:
        assert monitor.reads == 0
        with monitor.sampling():
            deadline = time.perf_counter() + 5
            while monitor.reads < 3 and time.perf_counter() < deadline:
                time.sleep(0.002)
            if monitor.reads >= 3:
                reads_during.set()
        after = monitor.reads
        time.sleep(0.05)
        assert monitor.reads <= after + 1  # a read under way when the block ended, no more
    assert reads_during.is_set()


class SlowLockConnection:
    """Answers that the migration backend holds a lock, after `delay` seconds in flight."""

    def __init__(self, delay: float):
        self.delay = delay

    def execute(self, sql, params):
        time.sleep(self.delay)
        rows = [("lock", 4242, "ShareUpdateExclusiveLock")] if params["pid"] else []
        return type("Result", (), {"fetchall": lambda self: rows})()


def test_a_reading_sent_before_a_statement_started_is_not_counted_as_its_locks():
    monitor = Monitor("", 99, [], connect=lambda: SlowLockConnection(0.05), release=lambda used: None)
    monitor._ensure_connection()
    monitor._sampling = 1
    before_read = time.perf_counter()
    reader = threading.Thread(target=monitor._read, args=({},))
    reader.start()
    time.sleep(0.02)
    # The next statement starts while the reading made during the one before is in flight.
    next_started = time.perf_counter()
    reader.join()
    next_ended = time.perf_counter()
    assert monitor.locks_between(next_started, next_ended) == set()
    assert monitor.locks_between(before_read, next_ended) == {(4242, "ShareUpdateExclusiveLock")}
