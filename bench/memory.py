#!/usr/bin/env python3
"""Peak memory of `migrasafe check --format json` on one large generated migration file.

    python bench/memory.py                 # a 50 MB file, results in bench/memory-results.md
    python bench/memory.py --mb 5 --no-write

The file is bench/run.py's generator (same seed, valid PostgreSQL for a growing schema) run
until it reaches the size. The check runs as its own process; its peak resident set size is
the kernel's figure for it (getrusage RUSAGE_CHILDREN ru_maxrss), compared with the file size.
The target is at most 10x the input. The JSON it writes is checked to parse, and to have one
statement per statement generated. Standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Generator, cpu_model, nproc, source_revision  # noqa: E402

TARGET_RATIO = 10.0
SEED = 20240601


def write_input(path: Path, megabytes: float) -> int:
    """The generated file, at least `megabytes` MB; returns its statement count."""
    gen = Generator(SEED)
    wanted = int(megabytes * 1024 * 1024)
    size, count = 0, 0
    with path.open("w", encoding="utf-8") as out:
        while size < wanted:
            text = gen.statement()[1] + "\n\n"
            out.write(text)
            size += len(text.encode())
            count += 1
    return count


def measure(python: str, path: Path, output: Path, extra: list[str]) -> tuple[int, float, int]:
    """(peak RSS in bytes, wall seconds, exit code) of one check of `path`."""
    started = time.perf_counter()
    with output.open("wb") as out:
        # A cold run, whose cache entries go to a scratch folder rather than the user's cache.
        env = {**os.environ, "MIGRASAFE_CACHE_DIR": str(output.parent / "cache")}
        done = subprocess.run([python, "-m", "migrasafe", "check", "--format", "json", *extra, str(path)],
                              stdout=out, stderr=subprocess.PIPE, cwd=HERE.parent, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"the check failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    # Linux reports ru_maxrss in KiB; the only child so far is the check.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return peak, elapsed, done.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the generated file in MB (default 50)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter migrasafe is installed in")
    parser.add_argument("--no-write", action="store_true", help="print the figure, leave bench/memory-results.md")
    parser.add_argument("--no-cache", action="store_true", help="check with --no-cache (no result cache written)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="migrasafe-memory-") as scratch:
        path = Path(scratch) / "migrations" / "0001_big.sql"
        path.parent.mkdir()
        statements = write_input(path, args.mb)
        size = path.stat().st_size
        output = Path(scratch) / "report.json"
        load_before = os.getloadavg()[0]
        extra = ["--no-cache"] if args.no_cache else []
        peak, elapsed, code = measure(args.python, path, output, extra)
        load_after = os.getloadavg()[0]
        with output.open(encoding="utf-8") as report_file:
            report = json.load(report_file)
        reported = sum(len(m["statements"]) for m in report["migrations"])
        if reported != statements:
            raise SystemExit(f"the report has {reported} statements, the file {statements}")
        output_size = output.stat().st_size

    ratio = peak / size
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    line = (f"{size / 1e6:.1f} MB file, {statements:,} statements: peak RSS {peak / 1e6:,.0f} MB, "
            f"{ratio:.1f}x the input (target {TARGET_RATIO:.0f}x: {verdict}); {elapsed:.0f} s; "
            f"JSON report {output_size / 1e6:.0f} MB")
    print(line)
    if args.no_write:
        return 0 if verdict == "met" else 1
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""# Benchmark: memory of one large migration file

Written by `python bench/memory.py --mb {args.mb:g}{" --no-cache" if args.no_cache else ""}` on {stamp}.

## Machine

| what | value |
| --- | --- |
| CPUs (`nproc`) | {nproc()} |
| CPU model | {cpu_model()} |
| memory | {_memory_total()} |
| OS | {platform.system()} {platform.release()} |
| Python | {platform.python_version()} |
| migrasafe | source {source_revision(str(HERE.parent / "migrasafe"))} |
| load average (1 min) before / after | {load_before:.2f} / {load_after:.2f} |

## Figure

| input | statements | peak RSS | ratio | target | wall time | exit | JSON report |
| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |
| {size / 1e6:.1f} MB | {statements:,} | {peak / 1e6:,.0f} MB | {ratio:.1f}x | at most {TARGET_RATIO:.0f}x: {verdict} | {elapsed:.0f} s | {code} | {output_size / 1e6:.0f} MB |

The input is bench/run.py's generator (seed {SEED}); the command is
`migrasafe check --format json {" ".join(extra + ["FILE"])} > report.json` (the result cache is on
unless --no-cache is given, with its entries in a scratch folder). Peak RSS is the kernel's maximum resident
set size of that process. Wall time depends on the machine's load and is not a speed figure.
"""
    (HERE / "memory-results.md").write_text(text, encoding="utf-8")
    print(f"wrote {HERE / 'memory-results.md'}")
    return 0 if verdict == "met" else 1


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
