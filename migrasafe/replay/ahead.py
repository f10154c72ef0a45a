"""The session each migration runs in, ready before it starts.

A migration runs in the session the one before it ran in, reset to a new session's state
(Runner.adopt: DISCARD ALL), as a migration tool runs a history on one connection: connecting
costs a server process start, more than most statements take. Where that session cannot be
reused (it was lost, or left a transaction open), a new one is opened while the previous
migration's results are gathered and the next tables are seeded; the session stays new (it runs
nothing before its migration, and an idle session holds no locks and no snapshot, so the seeding
cannot tell it is there).
"""
from __future__ import annotations

import contextlib
import threading

import psycopg
from psycopg.pq import TransactionStatus

from .measure import Runner


class SessionAhead:
    def __init__(self, runner: Runner):
        self.runner = runner
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._open, name="replay-session", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            self.runner.open()
        except BaseException as err:  # raised where the session is taken
            self._error = err

    def take(self) -> psycopg.Connection:
        """The runner's open session; raises what opening it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self.runner.conn is not None
        return self.runner.conn

    def discard(self) -> None:
        """Not needed after all (the replay stopped early): close it."""
        self._thread.join()
        if self.runner.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.runner.conn.close()


class SessionKept:
    """The previous migration's session, reset when taken (or a new one, should that fail)."""

    def __init__(self, runner: Runner, conn: psycopg.Connection):
        self.runner = runner
        self._conn = conn

    @staticmethod
    def reusable(conn: psycopg.Connection) -> bool:
        return not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE

    def take(self) -> psycopg.Connection:
        try:
            return self.runner.adopt(self._conn)
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            return self.runner.open()

    def discard(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._conn.close()


def next_session(runner: Runner, used: psycopg.Connection | None) -> SessionAhead | SessionKept:
    if used is not None and SessionKept.reusable(used):
        return SessionKept(runner, used)
    return SessionAhead(runner)
