"""A whole `check` run replayed: when nothing the run depended on has changed, its output and exit
code are written again without reading a migration or loading the analysis.

What a run depends on is recorded while it runs: every file the process opens (the migrations,
configuration files, plans and journals, the baseline, migrasafe's own modules and those of its
dependencies), every folder it lists or looks into for a file (so that a migration added beside the
others, or a configuration file created in a parent folder, is seen), the command line, the working
folder, the interpreter and the environment variables migrasafe reads. A later run with the same
command compares each opened file and listed folder by its status (size, modification and change
times, inode) and each path looked at by what it is (absent, a folder, a file of that size), which
costs microseconds. An entry that changed less than ``RACY_SECONDS`` before the run
started is also compared by content, as git does with "racily clean" index entries; a run during
which an input changed is not stored.

An Alembic history's revisions are rendered in a child process (sandbox/): the child watches
itself the same way and tells what it read, the revisions, the project's modules and Alembic's
included, and a run whose child ended without telling (a revision that ended or hung its process)
is not stored.

Not stored, because their results depend on more than files: runs with --since (git history),
--stats-from or --data-from (a database), --replay, and runs that read a Django history (its
rendering runs a PostgreSQL server; it keeps its own cache of saved states). Output above
``MAX_OUTPUT`` characters is not kept.
Entries are plain JSON in the same store as the per-migration results (``kind`` "run").
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time

from .store import Store, cache_dir

FORMAT = 1
MAX_OUTPUT = 8 * 1024 * 1024
RACY_SECONDS = 2
# Histories whose reading depends on more than the files a process reads (a server, timing).
CODE_FORMATS = frozenset({"django"})
# The environment variables that can change a check's output, besides MIGRASAFE_*.
ENVIRONMENT = frozenset({
    "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONPATH",
    "PYTHONUTF8", "DJANGO_SETTINGS_MODULE", "XDG_CACHE_HOME", "LOCALAPPDATA", "HOME", "PATH", "VIRTUAL_ENV",
    "CI", "GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITLAB_CI", "CI_PROJECT_DIR",
})
_NOT_INPUTS = ("/proc/", "/dev/", "/sys/")


def run_key(argv: list[str]) -> str:
    environment = {k: v for k, v in os.environ.items() if k in ENVIRONMENT or k.startswith("MIGRASAFE_")}
    described = [FORMAT, argv, os.getcwd(), environment, sys.executable, sys.version, sys.flags.utf8_mode,
                 _isatty(sys.stdout), _isatty(sys.stderr), getattr(sys.stdout, "encoding", None)]
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def replayed(argv: list[str]) -> int | None:
    """Write the stored output of this same run and return its exit code, or None when there is
    none or something it depended on changed."""
    store = Store(cache_dir())
    entry = store.get("run", run_key(argv))
    if entry is None or not _unchanged(entry):
        return None
    streams = {1: sys.stdout, 2: sys.stderr}
    for stream, text in entry["output"]:
        target = streams[stream]
        if getattr(target, "errors", None) == "strict" and hasattr(target, "reconfigure"):
            target.reconfigure(errors="backslashreplace")
        target.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    return entry["exit"]


class Watch:
    """The files a process opens, the folders it lists and the paths it looks at, from now until
    `stop()`: a run's own process (Recorder), or a child process of the run (sandbox/child.py),
    which tells the parent what it saw (`child_read`)."""

    def __init__(self):
        self.files: set[str] = set()
        self.folders: set[str] = set()
        self.looked_at: set[str] = set()
        self.active = True
        self._stat, self._lstat = os.stat, os.lstat
        _watch(self)
        os.stat, os.lstat = self._watched(os.stat), self._watched(os.lstat)

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        os.stat, os.lstat = self._stat, self._lstat

    def seen(self) -> dict[str, list[str]]:
        """What was watched, with the source files of every module loaded (imported before the
        watch began or not), as plain data."""
        return {"files": sorted(self.files | _module_files()), "folders": sorted(self.folders),
                "looked_at": sorted(self.looked_at)}

    def _audit(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode = args[0], args[1]
            if isinstance(mode, str) and any(c in mode for c in "wax+"):
                return
            self._note(path, self.files)
        elif event in ("os.listdir", "os.scandir"):
            self._note(args[0] if args and args[0] is not None else ".", self.folders)

    def _note(self, path, into: set[str]) -> None:
        if isinstance(path, int):
            return
        try:
            into.add(os.path.abspath(os.fsdecode(path)))
        except (TypeError, ValueError):
            pass

    def _watched(self, function):
        def watched(path, *args, **kwargs):
            if self.active and not isinstance(path, int) and kwargs.get("dir_fd") is None:
                self._note(path, self.looked_at)
            return function(path, *args, **kwargs)

        return watched


class Recorder(Watch):
    """Watches one run: the files it opens, the folders it lists or looks into, what it writes."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.started_ns = time.time_ns()
        self.output: list[list] = []
        self.size = 0
        super().__init__()
        self._stdout, self._stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(sys.stdout, 1, self), _Tee(sys.stderr, 2, self)

    def stop(self) -> None:
        if not self.active:
            return
        super().stop()
        sys.stdout, sys.stderr = self._stdout, self._stderr

    def unknown(self, why: str) -> None:
        """Something the run depended on cannot be pinned down: the run is not stored."""
        if self.output is not None and os.environ.get("MIGRASAFE_DEBUG") == "1":
            print(f"migrasafe: run not cached: {why}", file=sys.__stderr__)
        self.output = None

    def store(self, exit_code: int) -> None:
        """Keep the run for replay, unless its inputs cannot be pinned down."""
        self.stop()
        if self.output is None:
            return
        self.files |= _module_files()
        store = Store(cache_dir())
        root = os.path.abspath(store.root)
        excluded = root + os.sep
        # What this process writes to: a report redirected into a folder the readers look through.
        own = set()
        for fd in (1, 2):
            try:
                info = os.fstat(fd)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                own.add((info.st_dev, info.st_ino))
        recorded: dict[str, list] = {"files": [], "folders": [], "looked_at": []}
        for kind, paths in (("files", self.files), ("folders", self.folders),
                            ("looked_at", self.looked_at - self.files - self.folders)):
            for path in sorted(paths):
                if path == root or path.startswith(excluded) or path.startswith(_NOT_INPUTS) or path.endswith(".pyc"):
                    continue  # bytecode is written as its source is first imported; the source is recorded
                if own and kind != "folders" and _identity(path) in own:
                    continue
                described = _what_it_is(path) if kind == "looked_at" else self._describe(path, folder=kind == "folders")
                if described is None:
                    if os.environ.get("MIGRASAFE_DEBUG") == "1":
                        print(f"migrasafe: run not cached: {path} changed while it ran", file=sys.stderr)
                    return
                recorded[kind].append(described)
        store.put("run", run_key(self.argv), {**recorded, "output": self.output, "exit": exit_code})

    def _describe(self, path: str, *, folder: bool) -> list | None:
        """[path, status..., digest or None]; [path] when absent; None when it changed during the run."""
        try:
            info = self._stat(path)
        except OSError:
            return [path]
        if not (stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)):
            return None  # a FIFO, a device: nothing a later run could compare
        changed = max(info.st_mtime_ns, info.st_ctime_ns)
        if changed >= self.started_ns:
            return None
        digest = None
        if changed >= self.started_ns - RACY_SECONDS * 1_000_000_000:
            digest = _folder_digest(path) if folder else _file_digest(path)
        return [path, info.st_size if not folder else 0, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, digest]

    def write(self, stream: int, text: str) -> None:
        if self.output is None:
            return
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            self.output = None
            return
        if self.output and self.output[-1][0] == stream:
            self.output[-1][1] += text
        else:
            self.output.append([stream, text])


def _module_files() -> set[str]:
    """The source files of every module loaded, imported before a watch began or not."""
    return {os.path.abspath(path) for module in list(sys.modules.values())
            if isinstance(path := getattr(module, "__file__", None), str)}


# An audit hook cannot be removed: one per process, handing events to the watch of the moment.
_current: list[Watch] = []


def _watch(watch: Watch) -> None:
    if not _current:
        sys.addaudithook(_audit)
        _current.append(watch)
    _current[0] = watch


def child_read(seen: dict) -> None:
    """A child process of this run read these (Watch.seen): they are inputs of the run too."""
    recorder = _recording()
    if recorder is None:
        return
    try:
        for kind in ("files", "folders", "looked_at"):
            getattr(recorder, kind).update(os.path.abspath(p) for p in seen[kind] if isinstance(p, str))
    except (KeyError, TypeError):
        recorder.unknown("a child process told what it read in a form not understood")


def child_unknown(why: str) -> None:
    """A child process of this run ended without telling what it read."""
    recorder = _recording()
    if recorder is not None:
        recorder.unknown(why)


def _recording() -> Recorder | None:
    watch = _current[0] if _current else None
    return watch if isinstance(watch, Recorder) and watch.active else None


def _audit(event: str, args: tuple) -> None:
    if event in ("open", "os.listdir", "os.scandir"):
        _current[0]._audit(event, args)


class _Tee:
    """A standard stream that also hands what is written to the recorder."""

    def __init__(self, stream, number: int, recorder: Recorder):
        self._stream, self._number, self._recorder = stream, number, recorder

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._recorder.write(self._number, text)
        return written

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _unchanged(entry: dict) -> bool:
    try:
        for recorded in entry["files"]:
            if not _same(recorded, folder=False):
                return False
        for recorded in entry["folders"]:
            if not _same(recorded, folder=True):
                return False
        for recorded in entry["looked_at"]:
            if _what_it_is(recorded[0]) != recorded:
                return False
    except (TypeError, ValueError, KeyError, IndexError):
        return False  # not an entry this code wrote
    return isinstance(entry.get("exit"), int) and isinstance(entry.get("output"), list)


def _same(recorded: list, *, folder: bool) -> bool:
    path = recorded[0]
    try:
        info = os.stat(path)
    except OSError:
        return len(recorded) == 1
    if len(recorded) == 1:
        return False
    if not (stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)):
        return False
    _, size, mtime, ctime, ino, digest = recorded
    if (info.st_size if not folder else 0, info.st_mtime_ns, info.st_ctime_ns, info.st_ino) != (size, mtime, ctime, ino):
        return False
    if digest is not None:
        return digest == (_folder_digest(path) if folder else _file_digest(path))
    return True


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _what_it_is(path: str) -> list:
    try:
        info = os.stat(path)
    except OSError:
        return [path, "absent"]
    if stat.S_ISDIR(info.st_mode):
        return [path, "folder"]
    if stat.S_ISREG(info.st_mode):
        return [path, "file", info.st_size]
    return [path, "other"]


def _file_digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "unreadable"


def _folder_digest(path: str) -> str:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return "unreadable"
    return hashlib.sha256("\0".join(names).encode()).hexdigest()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
