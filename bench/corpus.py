#!/usr/bin/env python3
"""Cold and warm `migrasafe check` on the shared corpus's largest histories, from each project root.

    python bench/corpus.py                     # results in bench/corpus-results.md
    python bench/corpus.py --runs 5 --no-write
    python bench/corpus.py --corpus ../shared/corpus --project pypi__warehouse

Each project is checked as a user would, `migrasafe check --format json ROOT`, in a new process:
once with --no-cache (cold), then once to fill a private result cache, then `--runs` times with
that cache (warm: nothing changed). The warm target is 0.3 s. The JSON of the cold and warm runs is
compared: the cache must not change a result. Standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import cpu_model, nproc, source_revision  # noqa: E402

WARM_TARGET_S = 0.3
# The largest histories of the shared corpus, one per kind of reader: Prisma (about 820
# migrations), diesel (about 285), Alembic (about 290 revisions, rendered by Alembic itself).
PROJECTS = ("triggerdotdev__trigger.dev", "rust-lang__crates.io", "pypi__warehouse")


def timed(cmd: list[str], env: dict, out: Path, cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, exit code)."""
    before = os.times()
    started = time.perf_counter()
    with out.open("wb") as handle:
        done = subprocess.run(cmd, stdout=handle, stderr=subprocess.PIPE, env=env, cwd=cwd)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system), \
        done.returncode


def measure(project: Path, runs: int, scratch: Path) -> dict:
    env = {**os.environ, "MIGRASAFE_CACHE_DIR": str(scratch / "cache" / project.name)}
    base = [sys.executable, "-m", "migrasafe", "check", "--format", "json", str(project)]
    cold_out, warm_out = scratch / f"{project.name}.cold.json", scratch / f"{project.name}.warm.json"
    # From the project's folder, as a user runs it (`python -m` also looks for modules there).
    cold = timed(base + ["--no-cache"], env, cold_out, project)
    timed(base, env, warm_out, project)  # fills the cache
    warm = [timed(base, env, warm_out, project) for _ in range(runs)]
    same = cold_out.read_bytes() == warm_out.read_bytes()
    walls = [w for w, _, _ in warm]
    return {"project": project.name, "cold": cold[0], "cold_cpu": cold[1], "warm_best": min(walls),
            "warm_median": statistics.median(walls), "warm_cpu": statistics.median(c for _, c, _ in warm),
            "exit": cold[2], "same": same, "bytes": cold_out.stat().st_size}


def write(rows: list[dict], runs: int, loads: tuple[float, float], path: Path) -> None:
    lines = [
        "# Benchmark: the shared corpus's largest histories",
        "",
        f"Written by `python bench/corpus.py` on "
        f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
        f"(one cold run, then {runs} warm runs after one that fills the cache).",
        "",
        "## Machine",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| CPUs (`nproc`) | {nproc()} |",
        f"| CPU model | {cpu_model()} |",
        f"| OS | {platform.system()} {platform.release()} |",
        f"| Python | {platform.python_version()} |",
        f"| migrasafe | source {source_revision(str(HERE.parent / 'migrasafe'))} |",
        f"| load average (1 min) before / after | {loads[0]:.2f} / {loads[1]:.2f} |",
        "",
        "## Figures",
        "",
        "`migrasafe check --format json ROOT` from the project root, wall time of the whole process.",
        "",
        "| project | cold s | cold CPU s | warm best s | warm median s | warm CPU s | warm target | same JSON |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        verdict = "met" if r["warm_median"] <= WARM_TARGET_S else "MISSED"
        lines.append(f"| {r['project']} | {r['cold']:.2f} | {r['cold_cpu']:.2f} | {r['warm_best']:.2f} | "
                     f"{r['warm_median']:.2f} | {r['warm_cpu']:.2f} | {WARM_TARGET_S:g} s: {verdict} | "
                     f"{'yes' if r['same'] else 'NO'} |")
    lines += [
        "",
        "Cold is `--no-cache`. Warm reuses a private cache folder (`MIGRASAFE_CACHE_DIR`) filled by the run",
        "before; nothing in the project changed in between. \"same JSON\" compares the cold and the last",
        "warm report byte for byte.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus"))
    parser.add_argument("--project", action="append", help="a folder of the corpus (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    projects = [corpus / name for name in (args.project or PROJECTS)]
    missing = [str(p) for p in projects if not p.is_dir()]
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrasafe-corpus-bench-") as scratch:
        for project in projects:
            row = measure(project, args.runs, Path(scratch))
            rows.append(row)
            print(f"{row['project']}: cold {row['cold']:.2f} s, warm {row['warm_median']:.2f} s "
                  f"(best {row['warm_best']:.2f}), same JSON: {row['same']}")
    if not args.no_write:
        write(rows, args.runs, (load_before, os.getloadavg()[0]), HERE / "corpus-results.md")
        print(f"wrote {HERE / 'corpus-results.md'}")
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
