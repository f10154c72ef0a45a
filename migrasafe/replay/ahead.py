"""Open the next migration's session while this one's results are gathered and the next tables
are seeded: connecting costs a server process start, more than most statements take, and the
session stays new (it runs nothing before its migration, and an idle session holds no locks
and no snapshot, so the seeding cannot tell it is there)."""
from __future__ import annotations

import contextlib
import threading

import psycopg

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
