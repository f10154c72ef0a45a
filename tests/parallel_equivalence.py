"""Run by tests/test_parallel.py in a process of its own (a fork needs a process with one thread,
and pytest's workers have more): each history checked by one process and split into shares at
every point (`--spread N`: at N points spread over it), the JSON reports compared. Prints one
line per difference; exit 0 when there is none.

`--break MARKER`: judging a statement whose text holds MARKER fails (MS088).
`--child-fails`: every child process fails before sending anything.
`--unstorable NAME`: the result of the migration whose path ends with NAME cannot be sent.
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.parallel import run as parallel_run
from migrasafe.report import render
from migrasafe.sources import read_migrations


def report_of(path: Path, jobs: int, starts=None) -> str:
    if starts is not None:
        parallel_run.planned_starts = lambda migrations, processes: list(starts)
    config = Config(cache=False, jobs=jobs)
    return render(run([str(path)], config), "json")


def splits(migrations, spread: int | None = None):
    """Every two-share split, and every three-share one of a history of up to five places
    (a place: a migration, or a statement inside one that can be judged in parts)."""
    places = parallel_run.places(migrations)[0][1:]
    if spread:
        count = len(places)
        points = sorted({places[count * k // (spread + 1)] for k in range(1, spread + 1)} if count else ())
        yield from ([(0, 0), point] for point in points)
        yield from ([(0, 0), a, b] for a, b in zip(points, points[1:]))
        return
    for first in places:
        yield [(0, 0), first]
    if len(places) <= 5:
        for first, second in itertools.combinations(places, 2):
            yield [(0, 0), first, second]


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--spread", type=int)
    parser.add_argument("--break", dest="marker")
    parser.add_argument("--child-fails", action="store_true")
    parser.add_argument("--unstorable")
    args = parser.parse_args(argv)
    if args.marker:
        from migrasafe import analyse

        judge = analyse._judge

        def breaking(stmt, *rest, **options):
            if args.marker in stmt.sql:
                raise RuntimeError("broken on purpose")
            return judge(stmt, *rest, **options)

        analyse._judge = breaking
    if args.child_fails:
        def failing(*_):
            raise RuntimeError("a child that fails")

        parallel_run._judge_share = failing
    if args.unstorable:
        from migrasafe import analyse

        analyse_migration = analyse.analyse_migration

        def unpicklable(migration, *rest, **options):
            result = analyse_migration(migration, *rest, **options)
            if migration.path.endswith(args.unstorable):
                result.migration.meta["unsent"] = lambda: None  # pickle refuses a lambda
            return result

        analyse.analyse_migration = unpicklable
    paths = args.paths
    started = []
    start = parallel_run.Child.start
    parallel_run.Child.start = classmethod(lambda cls, *args: started.append(1) or start(*args))
    received = []
    results = parallel_run.Child.results

    def counted(child):
        sent = results(child)
        received.append(len(sent[1]) if sent is not None else 0)
        return sent

    parallel_run.Child.results = counted
    differences = compared = stopped = 0
    for path in map(Path, paths):
        migrations, _ = read_migrations([str(path)], Config(cache=False), {}, [])
        alone = report_of(path, 1)
        stopped += '"MS088"' in alone
        for starts in splits(migrations, args.spread):
            compared += 1
            if report_of(path, len(starts), starts) != alone:
                differences += 1
                print(f"{path}: split at {starts[1:]} gives another report")
    print(f"compared {compared} splits, {len(started)} child processes, {sum(received)} results received, "
          f"{stopped} histories with MS088")
    return 1 if differences or not compared or len(started) < compared else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
