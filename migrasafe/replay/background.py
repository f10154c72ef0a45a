"""Start the replay's embedded server while the static check runs: initdb and the server's start
take as long as checking a folder of migrations, and neither needs the other."""
from __future__ import annotations

import contextlib
import threading

from .backends import Server, open_backend


class BackgroundServer:
    def __init__(self, backend: str, pg_version: int, scratch: str | None = None):
        self._stack = contextlib.ExitStack()
        self._server: Server | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, args=(backend, pg_version, scratch),
                                        name="replay-server", daemon=True)
        self._thread.start()

    def _start(self, backend: str, pg_version: int, scratch: str | None) -> None:
        try:
            self._server = self._stack.enter_context(open_backend(backend, pg_version=pg_version, scratch=scratch))
        except BaseException as err:  # handed to the main thread, which reports it
            self._error = err

    def get(self) -> Server:
        """The started server; raises what starting it raised (BackendError)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._server is not None
        return self._server

    def close(self) -> None:
        """Stop the server and remove its files (after it finished starting, if it was)."""
        self._thread.join()
        self._stack.close()
