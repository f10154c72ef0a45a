"""Time `migrasafe check` on a Django project: cold (empty cache), warm, and a pull request's
`--since` run that adds one migration.

    .venv/bin/python bench/django.py [PROJECT] [--skip-since] [--cache DIR]

PROJECT defaults to the shared corpus's saleor/saleor folders (1,417 migrations in 26 apps, no
project code). Each figure is one run in a fresh process, with its own cache folder so the cold
run really starts empty: wall time, and the CPU time of the check and its child processes (the
rendering process and PostgreSQL) together, a steadier figure on a shared machine. Results are
written to bench/django-results.md.
"""
from __future__ import annotations

import argparse
import os
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


def measure(project: Path, cache: Path, changed: Path | None = None) -> tuple[float, float, int]:
    env = dict(os.environ, MIGRASAFE_CACHE_DIR=str(cache))
    argv = [sys.executable, "-c", _MEASURE, str(project)] + ([str(changed)] if changed else [])
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    wall, cpu, migrations = done.stdout.split()
    return float(wall), float(cpu), int(migrations)


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
    lines = [f"## {args.project.name}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             "| run | wall s | CPU s (with children) | migrations reported |", "|---|---|---|---|"]
    lines += [f"| {name} | {wall:.1f} | {cpu:.1f} | {count} |" for name, wall, cpu, count in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(RESULTS, "a", encoding="utf-8") as handle:
        handle.write("\n" + text)


def _since(project: Path, cache: Path) -> tuple[float, float, int]:
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
