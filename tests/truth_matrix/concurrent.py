"""Observing a statement PostgreSQL refuses inside a transaction block (VACUUM, CONCURRENTLY,
REINDEX or CLUSTER of a partitioned table, ...).

Such a statement often runs several transactions of its own, one relation after another, and
holds each lock only briefly: a poll alone would catch some of them. So every table starts
behind a blocker of its own holding ACCESS EXCLUSIVE; the statement queues on each table in
turn, the poll sees the request in pg_locks, and only then is that blocker released, after
a partner blocker queued its own request behind the statement's, so that the statement's next
request on the table, in a later transaction of its own, queues again where the poll sees it. A request made
while the statement still holds a lock on the table jumps that queue (PostgreSQL lets a holder
ahead to avoid deadlock), so an upgrade within one of its transactions is seen only if a poll
catches it.
"""
from __future__ import annotations

import contextlib
import threading
import time

import psycopg
from psycopg import sql as q

from pgtruth import (
    CANCEL_GRACE_SECONDS, LOCKABLE_KINDS, LOCKS_SQL, Observation, connect, describe, record_locks, record_rewrites,
    snapshot,
)

LOCKED_KINDS = LOCKABLE_KINDS | {"m"}
DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.002
# A request not in pg_locks by then means the observation cannot be trusted: it fails, loudly.
QUEUE_SECONDS = 10.0
QUEUED_SQL = "SELECT count(*) > 0 FROM pg_locks WHERE pid = %s AND locktype = 'relation' AND mode = 'AccessExclusiveLock'"
MAX_ARMS = 4  # per blocker: enough for every separate transaction of one statement on a table


class Connections:
    """Idle connections to one database, kept for the next statement observed on it: the
    blockers of a context's every table cost a connection each."""

    def __init__(self, conninfo: str):
        self.conninfo, self.idle = conninfo, []

    def take(self, stack: contextlib.ExitStack) -> psycopg.Connection:
        conn = self.idle.pop() if self.idle else connect(self.conninfo)
        stack.callback(self._give_back, conn)
        return conn

    def _give_back(self, conn: psycopg.Connection) -> None:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def observe_outside_transaction(conninfo: str, statement: str, pool: Connections | None = None) -> Observation:
    observation = Observation(sql=statement, transactional=False)
    errors: list[str] = []
    own_pool = pool is None
    pool = pool or Connections(conninfo)
    with contextlib.ExitStack() as stack:
        if own_pool:
            stack.callback(pool.close)
        watcher = pool.take(stack)
        runner = stack.enter_context(connect(conninfo))
        before = snapshot(watcher)
        blockers = {}  # pid -> (blocker, its partner on the same table)
        for rel in before.values():
            if rel.kind in LOCKED_KINDS:
                table = q.Identifier(rel.schema, rel.relname)
                pair = [Blocker(pool.take(stack), table) for _ in range(2)]
                pair[0].arm(wait=True)
                blockers[pair[0].pid], blockers[pair[1].pid] = (pair[0], pair[1]), (pair[1], pair[0])
        pid = runner.info.backend_pid
        worker = threading.Thread(target=_run, args=(runner, statement, errors), daemon=True)
        worker.start()
        started = time.monotonic()
        while worker.is_alive():
            record_locks(observation, before, watcher.execute(LOCKS_SQL, [pid]).fetchall())
            (blocking,) = watcher.execute("SELECT pg_blocking_pids(%s)", [pid]).fetchone()
            if set(blocking or ()) & set(blockers):
                # Read again while it still waits: the request it queues with is in pg_locks now.
                record_locks(observation, before, watcher.execute(LOCKS_SQL, [pid]).fetchall())
            for blocker_pid in blocking or ():
                blocker, partner = blockers.get(blocker_pid, (None, None))
                if blocker is not None and blocker.armed:
                    # The partner queues behind the statement before the blocker lets it through,
                    # so that its next request on the table, in a later transaction, waits again.
                    if partner.arms < MAX_ARMS:
                        partner.arm(wait=False)
                        if not partner.wait_queued(watcher):
                            errors.append(f"the partner blocker's request was not queued within {QUEUE_SECONDS:.0f}s")
                    blocker.release()
            if errors:
                runner.cancel()
                break
            if time.monotonic() - started > DEADLINE_SECONDS:
                errors.append(f"did not finish within {DEADLINE_SECONDS:.0f}s")
                runner.cancel()
                break
            time.sleep(POLL_SECONDS)
        for blocker, _ in blockers.values():
            blocker.release()
        worker.join(CANCEL_GRACE_SECONDS)
        after = snapshot(watcher)
    if errors:
        observation.fail(errors[0])
    else:
        record_rewrites(observation, before, after)
    return observation


class Blocker:
    """A connection asking for ACCESS EXCLUSIVE on one table, without waiting for the answer."""

    def __init__(self, conn: psycopg.Connection, table: q.Composable):
        self.conn, self.pid, self.arms = conn, conn.info.backend_pid, 0
        conn.pgconn.exec_(b"SET lock_timeout = 0")  # it waits behind the statement as long as needed
        self.lock = q.SQL("LOCK TABLE ONLY {} IN ACCESS EXCLUSIVE MODE").format(table).as_bytes(conn)
        self.armed = False

    def arm(self, *, wait: bool) -> None:
        pgconn = self.conn.pgconn
        pgconn.exec_(b"BEGIN")
        pgconn.send_query(self.lock)
        self.armed, self.arms = True, self.arms + 1
        if wait:
            self._drain()

    def wait_queued(self, watcher: psycopg.Connection) -> bool:
        """Until the server has the request (held or queued): only then may the statement move on.
        False when it did not within QUEUE_SECONDS."""
        deadline = time.monotonic() + QUEUE_SECONDS
        while time.monotonic() < deadline:
            if watcher.execute(QUEUED_SQL, [self.pid]).fetchone()[0]:
                return True
            time.sleep(POLL_SECONDS)
        return False

    def release(self) -> None:
        if not self.armed:
            return
        pgconn = self.conn.pgconn
        pgconn.consume_input()
        if pgconn.is_busy():
            # Still queued: give up the request. Only then: a cancel reaching a backend that
            # already moved on could hit its next command instead.
            self.conn.cancel()
        self._drain()
        pgconn.exec_(b"ROLLBACK")
        self.armed = False

    def _drain(self) -> None:
        while self.conn.pgconn.get_result() is not None:
            pass


def _run(runner: psycopg.Connection, statement: str, errors: list[str]) -> None:
    try:
        runner.execute(statement)
    except psycopg.Error as exc:
        errors.append(describe(exc))
    except Exception as exc:  # surfaces in the observation rather than dying silently in the thread
        errors.append(f"{type(exc).__name__}: {exc}")
