"""The child's audit hook: what sandboxed code may not do, refused with a message that names it.

Python raises an audit event before each of these actions (the table of events:
https://docs.python.org/3/library/audit_events.html); a hook that raises stops the action. The
hook cannot be removed once added, and it runs before any sandboxed code is imported. Code that
bypasses Python (C extensions, ctypes) is left to kernel.py.
"""
from __future__ import annotations

import os
from typing import Callable

REASONS = {
    "network": "code run by migrasafe has no network access",
    "file": "code run by migrasafe may not change files outside its scratch folder",
    "process": "code run by migrasafe may not start processes",
    "signal": "code run by migrasafe may not signal other processes",
}

_NETWORK = {
    "socket.connect": "connecting to {1}", "socket.bind": "binding a socket to {1}",
    "socket.sendto": "sending to {1}", "socket.sendmsg": "sending a message on a socket",
    "socket.getaddrinfo": "reaching {0} (port {1})", "socket.gethostbyname": "looking up {0}",
    "socket.gethostbyaddr": "looking up {0}", "socket.getnameinfo": "looking up {0}",
}
_PROCESSES = {
    "subprocess.Popen": "starting the process {1}", "os.system": "running the shell command {0}",
    "os.exec": "replacing the process with {0}", "os.posix_spawn": "starting the process {1}",
    "os.spawn": "starting the process {2}", "os.fork": "forking the process",
    "os.forkpty": "forking the process", "os.startfile": "opening {0}", "pty.spawn": "starting {0}",
}
# Events whose first argument (and, for two-path events, second) is a path being changed.
_FILE_CHANGES = {
    "os.remove": "removing {0}", "os.rmdir": "removing the folder {0}", "os.mkdir": "creating the folder {0}",
    "os.rename": "renaming {0} to {1}", "os.link": "linking {1} to {0}", "os.symlink": "linking {1} to {0}",
    "os.truncate": "truncating {0}", "os.chmod": "changing the mode of {0}", "os.chown": "changing the owner of {0}",
    "os.utime": "changing the times of {0}", "os.chflags": "changing the flags of {0}",
    "os.lchflags": "changing the flags of {0}", "os.lchmod": "changing the mode of {0}",
    "os.lchown": "changing the owner of {0}", "os.setxattr": "changing the attributes of {0}",
    "os.removexattr": "changing the attributes of {0}",
}
_SIGNALS = {"os.kill", "os.killpg", "signal.pthread_kill"}
_TWO_PATHS = {"os.rename", "os.link", "os.symlink"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class Refused(PermissionError):
    """Sandboxed code tried something the sandbox does not allow."""

    def __init__(self, kind: str, attempt: str):
        super().__init__(f"{attempt} was refused: {REASONS[kind]}")
        self.kind, self.attempt = kind, attempt


class Guard:
    """`hook` is the audit hook; `told(kind, attempt)` hears of each refusal before it is raised;
    `dying(signal)` hears of a signal the process sends itself, before it is sent."""

    def __init__(self, scratch: str, told: Callable[[str, str], None], dying: Callable[[int], None]):
        self.writable = (os.path.realpath(scratch), "/dev/null")
        self.told, self.dying = told, dying
        self.pid = os.getpid()
        self._busy = False

    def hook(self, event: str, args: tuple) -> None:
        if self._busy:  # the checks below raise audit events of their own
            return
        self._busy = True
        try:
            refusal = self._check(event, args)
        finally:
            self._busy = False
        if refusal is not None:
            self.told(*refusal)
            raise Refused(*refusal)

    def _check(self, event: str, args: tuple) -> tuple[str, str] | None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or not _writes(mode, flags) or self._inside(path):
                return None
            return "file", f"opening {_text(path)} for writing"
        if event in _FILE_CHANGES:
            paths = args[:2] if event in _TWO_PATHS else args[:1]
            if all(isinstance(p, int) or self._inside(p) for p in paths):
                return None
            return "file", _say(_FILE_CHANGES[event], args)
        if event in _NETWORK:
            return "network", _say(_NETWORK[event], args)
        if event in _PROCESSES:
            return "process", _say(_PROCESSES[event], args)
        if event in _SIGNALS:
            target, signal = args
            if event == "signal.pthread_kill" or target in (0, self.pid):
                if signal != 0:  # 0 only asks whether the process exists
                    self.dying(signal)  # the process may be ending itself: say where, before it does
                return None
            return "signal", f"sending signal {signal} to process {target}"
        return None

    def _inside(self, path) -> bool:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.writable)


def _writes(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else False


def _text(value) -> str:
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, bytes, os.PathLike)) for v in value):
        return " ".join(_text(v) for v in value)
    if isinstance(value, (bytes, os.PathLike)):
        value = os.fsdecode(value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _say(template: str, args: tuple) -> str:
    def arg(index: int) -> str:
        try:
            return _text(args[index])
        except IndexError:
            return "?"

    out, i = "", 0
    while i < len(template):
        if template[i] == "{":
            end = template.index("}", i)
            out += arg(int(template[i + 1:end]))
            i = end + 1
        else:
            out += template[i]
            i += 1
    return out
