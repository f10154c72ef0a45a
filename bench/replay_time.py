#!/usr/bin/env python3
"""Where one cold `migrasafe replay` spends its time, phase by phase, in this process.

    python bench/replay_time.py DIR [replay options...]     # prints a JSON object

The replay runs as `migrasafe replay DIR --format json` would, with the main thread's time in
each phase added up by wrapping the replay's own functions: the static check, waiting for the
server, making and dropping the databases, seeding (both seeding connections, by the wall
clock), the statements themselves (every run of each, the rehearsals that were rolled back
included), waiting for a migration's session, starting and stopping the probes, and the rest.
The server's CPU time (the postmaster and every backend it reaped) is read just before it stops.
bench/replay.py prints the figures under its table. Standard library and migrasafe only.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

PHASES = ("check", "server start (not overlapped by the check)", "databases made and dropped", "seeding",
          "statements (every run, rehearsals included)", "waiting for a migration's session",
          "probes started and stopped", "catalog and lock readings, savepoints, commits",
          "server stopped and removed", "other")


def main(argv: list[str]) -> int:
    from migrasafe import check
    from migrasafe.replay import ahead, background, backends, measure, run, seed, servers

    spent: Counter[str] = Counter()
    counts: Counter[str] = Counter()

    def timed(owner, name: str, phase: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                return original(*args, **kwargs)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - started
                counts[phase] += 1

        setattr(owner, name, wrapper)

    def timed_context(owner, name: str, phase: str) -> None:
        original = getattr(owner, name)

        @contextlib.contextmanager
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            with original(*args, **kwargs) as value:
                spent[phase] += time.perf_counter() - started
                try:
                    yield value
                finally:
                    started = time.perf_counter()
            spent[phase] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(check, "run", "check")
    timed(background.BackgroundServer, "get", "server start (not overlapped by the check)")
    timed_context(backends.Server, "database", "databases made and dropped")
    timed(seed.Seeder, "seed", "seeding")
    timed(measure.Runner, "timed", "statements (every run, rehearsals included)")
    timed(measure.Runner, "run", "runner")
    timed(ahead.SessionAhead, "take", "waiting for a migration's session")
    timed(ahead.SessionKept, "take", "waiting for a migration's session")
    timed_context(run, "probing", "probes started and stopped")
    timed(background.BackgroundServer, "close", "server stopped and removed")

    server_cpu: dict[str, float] = {}
    run_as = servers.run_as

    def reading_cpu(owner, spec, workdir, args):
        if args[0] == "pg_ctl" and "stop" in args:
            with contextlib.suppress(OSError, ValueError, IndexError):
                datadir = Path(args[args.index("-D") + 1])
                pid = int((datadir / "postmaster.pid").read_text().split()[0])
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                server_cpu["s"] = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        return run_as(owner, spec, workdir, args)

    servers.run_as = reading_cpu

    from migrasafe.cli import main as cli

    started = time.perf_counter()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        with contextlib.suppress(SystemExit):
            cli(["replay", *argv, "--format", "json", "--fail-on", "never", "--no-progress"])
    wall = time.perf_counter() - started
    report = json.loads(output.getvalue())
    # Runner.run holds the statements; what is left of it are the readings around them.
    spent["catalog and lock readings, savepoints, commits"] = (
        spent.pop("runner") - spent["statements (every run, rehearsals included)"])
    spent["other"] = wall - sum(spent.values())
    usage = os.times()
    print(json.dumps({
        "wall_s": round(wall, 3),
        "phases_s": {phase: round(spent[phase], 3) for phase in PHASES},
        "statement_runs": counts["statements (every run, rehearsals included)"],
        "seeded_rows": sum(s["rows"] for s in report["replay"]["seeding"]),
        "client_cpu_s": round(usage.user + usage.system, 3),
        "server_cpu_s": round(server_cpu.get("s", 0.0), 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
