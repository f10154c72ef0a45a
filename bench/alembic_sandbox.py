"""Time `migrasafe check` on an Alembic project, revisions rendered in the sandbox's child process.

    .venv/bin/python bench/alembic_sandbox.py [PROJECT] [--runs N] [--tree DIR ...]

PROJECT defaults to the shared corpus's pypi/warehouse history. Each `--tree` is a source tree of
migrasafe to time instead of the installed one (an older checkout, to compare before/after); the
runs alternate between trees so a busy machine weighs on each alike. Reported per tree: the least
and the median wall time, and the CPU time of the check and its child processes together (a
steadier figure than wall time on a shared machine).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pypi__warehouse" / "migrations"
_MEASURE = """
import resource, sys, time
from migrasafe.check import run
from migrasafe.config import Config
started = time.perf_counter()
report = run([sys.argv[1]], Config())
wall = time.perf_counter() - started
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
print(wall, cpu, len(report.results))
"""


def measure(project: Path, tree: str | None) -> tuple[float, float, int]:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(project)], capture_output=True, text=True,
                          env=env, check=True)
    wall, cpu, migrations = done.stdout.split()
    return float(wall), float(cpu), int(migrations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=str(DEFAULT))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", action="append", default=[], help="a migrasafe source tree to time")
    args = parser.parse_args()
    trees = args.tree or [None]
    figures: dict[str | None, list[tuple[float, float, int]]] = {tree: [] for tree in trees}
    for _ in range(args.runs):
        for tree in trees:
            figures[tree].append(measure(Path(args.project), tree))
    print(f"{args.project}: {args.runs} runs each")
    for tree, runs in figures.items():
        walls, cpus = [w for w, _, _ in runs], [c for _, c, _ in runs]
        print(f"  {tree or 'installed'}: {runs[0][2]} migrations; wall min {min(walls):.2f} s, median "
              f"{statistics.median(walls):.2f} s; CPU (with children) min {min(cpus):.2f} s, median "
              f"{statistics.median(cpus):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
