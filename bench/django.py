"""Time `migrasafe check` on a Django project: cold (empty cache), warm, and a pull request's
`--since` run that adds one migration.

    .venv/bin/python bench/django.py [PROJECT] [--skip-since] [--cache DIR]

PROJECT defaults to the shared corpus's saleor/saleor folders (1,417 migrations in 26 apps, no
project code). Each figure is one run in a fresh process, with its own cache folder so the cold
run really starts empty: wall time; the CPU time of the check and the processes it waits for
(the rendering process, pg_dump, pg_restore), a steadier figure on a shared machine; and the CPU
time of the PostgreSQL servers it started (daemons, so not among those: their processes are read
from /proc while the run goes, found by the run's own TMPDIR in their command line). Results are
written to bench/django-results.md with the load average before and after each run.
"""
from __future__ import annotations

import argparse
import os
import threading
import time
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "saleor__saleor"
RESULTS = Path(__file__).resolve().parent / "django-results.md"
_MEASURE = """
import resource, sys, time
from migrasafe.check import run
from migrasafe.config import Config
config = Config()
if len(sys.argv) > 2:
    from pathlib import Path
    config.changed = frozenset({Path(sys.argv[2]).resolve()})
started = time.perf_counter()
report = run([sys.argv[1]], config)
wall = time.perf_counter() - started
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
rendered = sum(1 for r in report.results if not r.migration.meta.get("context"))
print(wall, cpu, rendered)
"""
_NEW_MIGRATION = '''from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("{app}", "{leaf}")]

    operations = [
        migrations.RunSQL("SELECT 1", reverse_sql=migrations.RunSQL.noop),
    ]
'''


def measure(project: Path, cache: Path, changed: Path | None = None) -> tuple[float, float, float, int, str]:
    with tempfile.TemporaryDirectory(prefix="msb-", dir="/tmp") as tmp:
        env = dict(os.environ, MIGRASAFE_CACHE_DIR=str(cache), TMPDIR=tmp)
        argv = [sys.executable, "-c", _MEASURE, str(project)] + ([str(changed)] if changed else [])
        load = _load()
        sampler = _ServerCpu(tmp)
        sampler.start()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
        finally:
            sampler.stop()
    wall, cpu, migrations = done.stdout.split()
    return float(wall), float(cpu), sampler.seconds(), int(migrations), f"{load} → {_load()}"


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


class _ServerCpu(threading.Thread):
    """CPU seconds of the PostgreSQL servers whose command line names `folder` and of their
    processes (backends, checkpointer...), each as last seen."""

    def __init__(self, folder: str):
        super().__init__(daemon=True)
        self.folder, self.seen, self.servers, self.done = folder.encode(), {}, set(), threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.done.wait(0.2):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                pid = int(proc.name)
                try:
                    fields = (proc / "stat").read_text().rpartition(")")[2].split()
                    if pid not in self.servers and int(fields[1]) not in self.servers:
                        command = (proc / "cmdline").read_bytes()
                        if self.folder not in command or not command.split(b"\0")[0].endswith(b"postgres"):
                            continue
                        self.servers.add(pid)
                except (OSError, IndexError, ValueError):
                    continue
                # utime and stime: fields 14 and 15 of stat, 12 and 13 after the command's name.
                self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick

    def stop(self) -> None:
        self.done.set()
        self.join()

    def seconds(self) -> float:
        return sum(self.seen.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--skip-since", action="store_true", help="leave out the run with one added migration")
    parser.add_argument("--cache", type=Path, help="cache folder to use and keep (default: a temporary one)")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="migrasafe-bench-django-"))
    rows = []
    try:
        rows.append(("cold (empty cache)", *measure(args.project, cache)))
        rows.append(("warm (nothing changed)", *measure(args.project, cache)))
        if not args.skip_since:
            rows.append(("--since, one migration added", *_since(args.project, cache)))
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    lines = [f"## {args.project.name}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores", "",
             "| run | wall s | CPU s (check, rendering) | CPU s (PostgreSQL) | migrations reported | load before → after |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {wall:.1f} | {cpu:.1f} | {server:.1f} | {count} | {load} |"
              for name, wall, cpu, server, count, load in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(RESULTS, "a", encoding="utf-8") as handle:
        handle.write("\n" + text)


def _since(project: Path, cache: Path) -> tuple[float, float, float, int, str]:
    """A copy of the project with one migration added to the app with the most migrations."""
    from migrasafe.plan.django_migrations import leaf, target_of
    from migrasafe.sources.django.layout import find_layout

    with tempfile.TemporaryDirectory(prefix="migrasafe-bench-pr-") as scratch:
        copy = Path(scratch) / project.name
        shutil.copytree(project, copy)
        layout = find_layout(copy)
        app = max(layout.apps, key=lambda a: len(list(a.migrations.glob("*.py"))))
        target = target_of(app.folder)
        name, number = leaf(target)
        added = app.migrations / f"{number + 1:04d}_bench_added.py"
        measure(copy, cache)  # the base branch, checked before: its renderings are in the cache
        added.write_text(_NEW_MIGRATION.format(app=target.app, leaf=name))
        return measure(copy, cache, added)


if __name__ == "__main__":
    main()
