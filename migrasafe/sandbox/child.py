"""The child process: `python -m migrasafe.sandbox FD`, its task read as JSON from stdin.

It imports the task's function (migrasafe's own code) first, then confines itself for good
(kernel.py, guard.py), then calls `function(payload, channel)`. Everything it tells the parent
goes through `Channel`, one JSON object a line on the pipe FD:

    {"event": "ready", "layers": [...]}           confined, about to run the function
    {"event": "step", "key": K}                   a unit of work begins (its time limit starts)
    {"event": "end", "key": K}                    it ended
    {"event": "data", "data": {...}}              a result (plain data)
    {"event": "warning", "key": K, "line": N, "category": C, "message": M}
    {"event": "refused", "key": K, "line": N, "kind": "network", "message": M}
    {"event": "ending", "key": K, "line": N, "how": "os._exit(0)"}   the code is ending the process
    {"event": "read", "seen": {...}}              what the child read (cache/whole_run.py Watch.seen)
    {"event": "done"}                             the function returned
    {"event": "error", "key": K, "message": M, "traceback": T}      it raised (out of step K)
"""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import signal
import sys
import tempfile
import traceback
import types
import warnings
from contextlib import contextmanager
from typing import Callable

from . import kernel
from .guard import Guard

STOPPED_EXIT = 70  # the parent asked the child to stop (a time limit passed)
_FLUSH_BYTES = 1 << 16
_exit = os._exit  # the real one: the sandboxed code sees a version that says where it was called


class Channel:
    def __init__(self, fd: int):
        self._fd = fd
        self._key: str | None = None
        self._file: str | None = None
        self._seen: set = set()
        self._real: dict[str, str] = {}
        self.escaped: str | None = None
        self._pending: list[bytes] = []
        self._size = 0

    def send(self, data: dict) -> None:
        self._emit({"event": "data", "data": data}, now=False)

    @contextmanager
    def step(self, key: str, file: str | None = None):
        """One unit of work with its own time limit; `file` is the code file whose lines count."""
        outer = self._key, self._file
        self._key, self._file = key, file
        self._emit({"event": "step", "key": key})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                # Raised when the garbage collector reaches an object, wherever the code then is:
                # it would be told on whichever step happens to run, so it is left out (as by default).
                warnings.simplefilter("ignore", ResourceWarning)
                warnings.showwarning = self._warned
                yield
        except BaseException:
            self.escaped = self.escaped or key  # the innermost step an uncaught exception left
            raise
        finally:
            self._emit({"event": "end", "key": key}, now=False)
            self._key, self._file = outer

    def line(self) -> int | None:
        """The line of the current step's file the code is at, innermost first."""
        if self._file is None:
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if self._is_step_file(frame.f_code.co_filename):
                return frame.f_lineno
            frame = frame.f_back
        return None

    def refused(self, kind: str, message: str) -> None:
        self._emit({"event": "refused", "key": self._key, "line": self.line(), "kind": kind, "message": message},
                   now=False)

    def ending(self, how: str) -> None:
        self._emit({"event": "ending", "key": self._key, "line": self.line(), "how": how})

    def _warned(self, message, category, filename, lineno, file=None, line=None) -> None:
        here = self.line()
        if here is None and self._is_step_file(filename):
            here = lineno
        text = " ".join(str(message).split())
        if (self._key, here, category, text) in self._seen:
            return
        self._seen.add((self._key, here, category, text))
        self._emit({"event": "warning", "key": self._key, "line": here, "category": category.__name__,
                    "message": text, "origin": f"{filename}:{lineno}"}, now=False)

    def _is_step_file(self, name: str) -> bool:
        if name == self._file:
            return True
        if name not in self._real:
            self._real[name] = os.path.realpath(name) if not name.startswith("<") else name
        return self._real[name] == self._real.setdefault(self._file, os.path.realpath(self._file))

    def _emit(self, message: dict, now: bool = True) -> None:
        """Results wait for the next message the parent needs at once (a step begins, the process
        ends): one write per step rather than one per message."""
        self._pending.append((json.dumps(message, default=str) + "\n").encode())
        self._size += len(self._pending[-1])
        if now or self._size > _FLUSH_BYTES:
            data = b"".join(self._pending)
            self._pending, self._size = [], 0
            while data:
                data = data[os.write(self._fd, data):]


def main(argv: list[str]) -> int:
    fd = int(argv[1])
    task = json.loads(sys.stdin.buffer.read())
    _reopen_stdin()
    scratch = task["scratch"]
    sys.path[:] = task["sys_path"]
    sys.dont_write_bytecode = True  # no __pycache__ written into the user's folders
    os.chdir(scratch)
    os.environ["TMPDIR"] = tempfile.tempdir = scratch
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name in task.get("bare", ()):
        _bare_package(name)
    module_name, _, function_name = task["target"].partition(":")
    module = __import__(module_name, fromlist=[function_name])
    function: Callable = getattr(module, function_name)
    from ..cache.whole_run import Watch

    channel = Channel(fd)
    layers = _confine(scratch, channel)
    watch = Watch()  # what the project's code reads is an input of the run (a cached run is replayed)
    channel._emit({"event": "ready", "layers": layers})
    try:
        function(task["payload"], channel)
    except BaseException as error:  # the function's own failure, told rather than printed
        _tell_what_was_read(channel, watch)
        channel._emit({"event": "error", "key": channel.escaped,
                       "message": " ".join(traceback.format_exception_only(error)[-1].split())[:1000],
                       "traceback": "".join(traceback.format_exception(error))[-4000:]})
        return 1
    _tell_what_was_read(channel, watch)
    channel._emit({"event": "done"})
    return 0


def _tell_what_was_read(channel: Channel, watch) -> None:
    watch.stop()
    channel._emit({"event": "read", "seen": watch.seen()}, now=False)


def _confine(scratch: str, channel: Channel) -> list[str]:
    layers = kernel.apply(scratch)
    guard = Guard(scratch, told=channel.refused, dying=lambda sig: channel.ending(f"signal {sig} to itself"))
    sys.addaudithook(guard.hook)
    layers.append("audit")

    def reported_exit(code=0):
        channel.ending(f"os._exit({code})")
        _exit(code)

    os._exit = reported_exit

    def stop(signum, frame):
        channel._emit({"event": "ending", "key": channel._key, "line": _line_from(channel, frame), "how": "stopped"})
        _exit(STOPPED_EXIT)

    signal.signal(signal.SIGTERM, stop)
    return layers


def _line_from(channel: Channel, frame) -> int | None:
    while frame is not None:
        if channel._file is not None and channel._is_step_file(frame.f_code.co_filename):
            return frame.f_lineno
        frame = frame.f_back
    return None


def _bare_package(name: str) -> None:
    """The package, for its subpackages only: its own __init__ (and all it imports) is not run."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__, module.__package__ = spec, name
    sys.modules[name] = module


def _reopen_stdin() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

