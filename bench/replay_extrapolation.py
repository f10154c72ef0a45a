#!/usr/bin/env python3
"""How close the replay's extrapolated durations come to a direct measurement at 10× the size.

    python bench/replay_extrapolation.py                 # every case of bench/replay-cases/
    python bench/replay_extrapolation.py --cases backfill,create-index --no-results

For each case the migrations are replayed at 50,000, 100,000 and 200,000 rows; the fitted model
predicts each statement's duration at 500,000 rows, and the case is then replayed at 500,000 rows
directly. Statements that take at least 20 ms there are compared, as the replay times them by
default (best of three, the server's waits for a CPU left out). The figures go to
bench/replay-extrapolation.md.

A wall-clock figure depends on what else the machine runs, so this is a measurement to record
and compare between versions, not a test: the test suite checks the fitting itself on fixed
numbers (tests/test_replay_units.py).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SMALLEST = 50_000
FIT_SIZES = (SMALLEST, 2 * SMALLEST, 4 * SMALLEST)
TARGET = 10 * SMALLEST
MEASURABLE_MS = 20.0
TOLERANCE = 0.30


def replay(server, case: Path, *, sizes) -> object:
    from migrasafe.check import run
    from migrasafe.config import Config
    from migrasafe.replay.run import ReplaySettings, replay_report
    from migrasafe.replay.stats import ProductionRows

    config = Config(pg_version=server.major)
    report = run([str(case)], config)
    options = ReplaySettings(production=ProductionRows(default=TARGET), sizes=tuple(sizes), probes=False,
                             repeat=3, progress=False)
    replay_report(report, [str(case)], config, options, server=server)
    return report


def durations(report, key: str) -> dict[int, tuple[str, float]]:
    out = {}
    for a in report.results[-1].statements:
        if a.observed and "error" not in a.observed and key in a.observed:
            value = a.observed[key]["ms"] if key == "predicted_ms" else a.observed[key]
            out[a.statement.line] = (a.statement.sql.split("\n")[0][:60], value)
    return out


def compare(server, case: Path) -> list[tuple[int, str, float, float]]:
    predicted = durations(replay(server, case, sizes=FIT_SIZES), "predicted_ms")
    direct = durations(replay(server, case, sizes=(TARGET,)), "duration_ms")
    return [(line, sql, predicted[line][1], ms) for line, (sql, ms) in direct.items()
            if ms >= MEASURABLE_MS and line in predicted]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--results", default=str(HERE / "replay-extrapolation.md"))
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args(argv)
    from migrasafe.replay.backends import open_backend

    cases = sorted((HERE / "replay-cases").glob("*/migrations"))
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [c for c in cases if c.parent.name in wanted]
    load_before = os.getloadavg()[0]
    rows = []
    with open_backend("embedded", pg_version=18) as server:
        for case in cases:
            for line, sql, predicted, measured in compare(server, case):
                rows.append((case.parent.name, line, sql, predicted, measured))
                print(f"{case.parent.name}:{line} predicted {predicted:.1f} ms, measured {measured:.1f} ms "
                      f"({(predicted - measured) / measured:+.0%})", flush=True)
    load_after = os.getloadavg()[0]
    within = sum(1 for *_, p, m in rows if abs(p - m) / m <= TOLERANCE)
    lines = [
        "# Benchmark: replay extrapolation",
        "",
        f"Written by `python bench/replay_extrapolation.py` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| machine | {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()} |",
        f"| fit sizes → target | {', '.join(f'{s:,}' for s in FIT_SIZES)} rows → {TARGET:,} rows |",
        f"| load average before / after | {load_before:.2f} / {load_after:.2f} |",
        f"| statements within ±{TOLERANCE:.0%} | {within} of {len(rows)} |",
        "",
        "| case | line | statement | predicted ms | measured ms | error |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, line, sql, predicted, measured in rows:
        lines.append(f"| {name} | {line} | `{sql}` | {predicted:.1f} | {measured:.1f} | "
                     f"{(predicted - measured) / measured:+.0%} |")
    text = "\n".join(lines) + "\n"
    print(f"{within} of {len(rows)} statements within ±{TOLERANCE:.0%}")
    if not args.no_results:
        Path(args.results).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
