"""A watchdog process that cleans up after a replay that could not clean up itself.

`Reaper` starts ``python -m migrasafe.replay.reaper`` in its own session with a pipe on its
standard input, and writes the plan to it as one line (not in the arguments, which every user of
the machine can read, because it may hold a connection string with a password). Nothing more is
written; when the replay exits in any way — return,
exception, Ctrl-C, SIGKILL — the pipe closes and the watchdog carries out the plan: stop the
server whose data directory it names, drop the database it names, remove the folders it names.
A replay that ended normally has already done all of that, so the plan then finds nothing to do.

The plan is JSON: {"postmaster_datadir": str, "remove": [str], "drop_database": {"conninfo": str, "name": str}}
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys


class Reaper:
    def __init__(self, plan: dict):
        self.plan = plan
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Reaper:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "migrasafe.replay.reaper"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Its own session: Ctrl-C on the terminal must not end it before the replay has gone.
            start_new_session=True, env=child_env(),
        )
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(self.plan).encode() + b"\n")
        self.process.stdin.flush()
        return self

    def __exit__(self, *exc_info) -> None:
        process = self.process
        if process is None:
            return
        # Whatever was left (normally nothing) is cleaned up by the watchdog while we go on.
        if process.stdin is not None:
            process.stdin.close()


def child_env() -> dict[str, str]:
    """The environment for the watchdog, able to import migrasafe however it was imported here."""
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    return env


def carry_out(plan: dict) -> None:
    datadir = plan.get("postmaster_datadir")
    if datadir:
        from migrasafe.replay.servers import kill_leftover_postmaster
        from pathlib import Path

        kill_leftover_postmaster(Path(datadir))
    database = plan.get("drop_database")
    if database:
        drop_database(database["conninfo"], database["name"])
    for path in plan.get("remove", []):
        shutil.rmtree(path, ignore_errors=True)


def drop_database(conninfo: str, name: str) -> None:
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    except Exception:
        pass  # nobody is left to tell; the database name says it is migrasafe's


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        plan = json.loads(sys.stdin.buffer.readline() or b"{}")
    except ValueError:
        return 2
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except OSError:
        pass
    carry_out(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
