"""Confinement of the rendering child: the sandbox's audit hook, with one door left open.

Django needs a live connection to the throwaway server, so the rules of migrasafe.sandbox's
Guard apply (no file changes outside the scratch folder, no processes, no signals to other
processes, no network) except that a unix-socket connection into the embedded server's socket
folder is allowed. libpq connects from C, below the audit hook, so the hook mainly stops Python
code in migrations (an HTTP call, a subprocess) and says so. The kernel layers of the sandbox
(seccomp refuses every connect(2)) would refuse the database connection too, so they are not
applied here.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile

from ...sandbox.guard import Guard, Refused

REFUSALS: list[dict] = []  # {"kind", "message"}: told to the parent with the migration's rendering


class _ServerOnly(Guard):
    def __init__(self, scratch: str, socket_dir: str):
        super().__init__(scratch, told=lambda kind, attempt: REFUSALS.append({"kind": kind, "message": attempt}),
                         dying=lambda signal: None)
        self.socket_dir = os.path.realpath(socket_dir)

    def _check(self, event: str, args: tuple):
        if event == "socket.connect" and self._to_server(args):
            return None
        if event in ("socket.getaddrinfo", "socket.gethostbyname") and args and args[0] in ("localhost", None):
            return None
        return super()._check(event, args)

    def _to_server(self, args: tuple) -> bool:
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) != socket.AF_UNIX or not isinstance(address, (str, bytes)):
            return False
        path = os.path.realpath(os.fsdecode(address))
        return path.startswith(self.socket_dir + os.sep)


def confine(socket_dir: str, scratch: str) -> None:
    """Confine this process for good: it may write only in `scratch` (its working folder)."""
    os.chdir(scratch)
    os.environ["TMPDIR"] = tempfile.tempdir = scratch
    sys.addaudithook(_ServerOnly(scratch, socket_dir).hook)


__all__ = ["REFUSALS", "Refused", "confine"]
