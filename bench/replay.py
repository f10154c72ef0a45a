#!/usr/bin/env python3
"""Time `migrasafe replay` on a generated 50-migration folder, cold: server start included.

    python bench/replay.py                    # defaults: 50 migrations, 1 run, replay defaults
    python bench/replay.py --runs 3 --sizes 10000,100000 --rows 1000000

Each run is a fresh `migrasafe replay DIR --format json` process: it starts an embedded
PostgreSQL, seeds the tables at every replay size, runs the 50 migrations under measurement
with probes, and removes everything. The report is checked (every migration and statement
measured, no model mismatch) and the figures go to bench/replay-results.md, with where the time
of one more cold run goes (bench/replay_time.py). What follows the NOTES line in that file is
kept when it is written again. Standard library only; see bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETUP = """\
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, name text,
                        created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE products (id bigserial PRIMARY KEY, sku varchar(40) NOT NULL UNIQUE, price numeric(10,2) NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
                     amount numeric(10,2) NOT NULL DEFAULT 0, note varchar(50), quantity integer NOT NULL DEFAULT 1,
                     placed_at timestamp NOT NULL DEFAULT now());
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders, product_id bigint NOT NULL REFERENCES products,
                          quantity integer NOT NULL, PRIMARY KEY (order_id, product_id));
CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, payload jsonb, at timestamptz NOT NULL DEFAULT now());
"""
TABLES = ("customers", "products", "orders", "order_items", "events")
NOTES = "<!-- notes: kept when bench/replay.py writes this file again -->"


def migration(number: int) -> str:
    """The number-th migration (2..N): a fixed cycle of what migrations do to live tables."""
    table = TABLES[number % len(TABLES)]
    column = f"c{number}"
    kinds = [
        f"ALTER TABLE {table} ADD COLUMN {column} text;",
        f"SET lock_timeout = '2s';\nALTER TABLE {table} ADD COLUMN {column} integer NOT NULL DEFAULT 0;",
        f"CREATE INDEX CONCURRENTLY {table}_{column}_idx ON {table} (id DESC);",
        f"ALTER TABLE {table} ADD COLUMN {column} bigint;\nCREATE INDEX {table}_{column}_idx ON {table} ({column});",
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_check CHECK (id > 0) NOT VALID;\n"
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_check;",
        f"COMMENT ON TABLE {table} IS 'revision {number}';",
        f"CREATE VIEW {table}_{column}_view AS SELECT id FROM {table};",
        f"BEGIN;\nALTER TABLE {table} ADD COLUMN {column} boolean;\n"
        f"UPDATE {table} SET {column} = true WHERE id % 100 = 0;\nCOMMIT;",
        f"CREATE TABLE {table}_{column}_archive (id bigint PRIMARY KEY, moved_at timestamptz NOT NULL DEFAULT now());",
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);" if number < 20 else
        f"ANALYZE {table};",
    ]
    return kinds[number % len(kinds)] + "\n"


def generate(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0001_setup.sql").write_text(SETUP)
    for number in range(2, count + 1):
        (folder / f"{number:04d}_step.sql").write_text(migration(number))


def executable() -> str:
    beside = Path(sys.executable).parent / "migrasafe"
    return str(beside) if beside.exists() else shutil.which("migrasafe") or "migrasafe"


# As an installed package runs: its modules' bytecode compiled once, not on every run.
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}


def compile_package() -> None:
    import migrasafe

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(migrasafe.__file__).parent)],
                   env=ENV, check=True, capture_output=True)


def run_once(command: list[str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"replay failed (exit {done.returncode}):\n{done.stderr}")
    return elapsed, json.loads(done.stdout)


def check_report(report: dict, count: int) -> dict:
    migrations = report["migrations"]
    if len(migrations) != count:
        sys.exit(f"the report holds {len(migrations)} migrations, expected {count}")
    statements = [s for m in migrations for s in m["statements"]]
    unmeasured = [s for s in statements if "observed" not in s and not s["sql"].upper().startswith(("BEGIN", "COMMIT"))]
    mismatches = [f for s in statements for f in s["findings"] if f["rule"] == "MS097"]
    if unmeasured or mismatches:
        sys.exit(f"{len(unmeasured)} statements not measured, {len(mismatches)} model mismatches")
    replay = report["replay"]
    seeding = sum(s["ms"] for s in replay["seeding"])
    seeded_rows = sum(s["rows"] for s in replay["seeding"])
    return {"statements": len(statements), "seeding_ms": seeding, "seeded_rows": seeded_rows,
            "replay_ms": replay["elapsed_ms"], "sizes": replay["sizes"], "server": replay["server"],
            "over_budget": sum(1 for s in statements for f in s["findings"] if f["rule"] == "MS095")
            + sum(1 for m in migrations for f in m["findings"] if f["rule"] == "MS095")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rows", default="1000000", help="production rows per table (default 1000000)")
    parser.add_argument("--sizes", default=None, help="replay sizes (default: the replay's own, 10000,100000)")
    parser.add_argument("--results", default=str(HERE / "replay-results.md"))
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="generate the migrations into DIR and keep them")
    parser.add_argument("--html", metavar="FILE", help="also write the last run's lock timeline page to FILE")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the run that says where the time goes")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="migrasafe-bench-")) / "migrations"
    generate(folder, args.migrations)
    command = [executable(), "replay", str(folder), "--format", "json", "--fail-on", "never", "--rows", args.rows]
    if args.sizes:
        command += ["--sizes", args.sizes]
    if args.html:
        command += ["--html", args.html]
    compile_package()
    load_before = os.getloadavg()[0]
    timings, figures = [], {}
    for _ in range(args.runs):
        elapsed, report = run_once(command)
        figures = check_report(report, args.migrations)
        timings.append(elapsed)
    sizing = ["--rows", args.rows] + (["--sizes", args.sizes] if args.sizes else [])
    breakdown = None if args.no_breakdown else time_phases(folder, sizing)
    load_after = os.getloadavg()[0]
    if not args.keep:
        shutil.rmtree(folder.parent, ignore_errors=True)

    sizes = " and ".join(f"{s:,}" for s in figures["sizes"])
    lines = [
        "# Benchmark: migrasafe replay",
        "",
        f"Written by `python bench/replay.py` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| machine | {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()} |",
        f"| server | {figures['server']} |",
        f"| input | {args.migrations} migrations, {figures['statements']} statements, 5 tables |",
        f"| replay sizes | {sizes} rows per table, production {int(args.rows):,} rows |",
        f"| load average before / after | {load_before:.2f} / {load_after:.2f} |",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| wall time, cold (server start to removal), best of {len(timings)} | {min(timings):.1f} s |",
        f"| wall time, median | {statistics.median(timings):.1f} s |",
        f"| seeding: rows made, time | {figures['seeded_rows']:,} rows, {figures['seeding_ms'] / 1000:.1f} s "
        f"({figures['seeded_rows'] / max(figures['seeding_ms'] / 1000, 1e-9):,.0f} rows/s) |",
        f"| over-budget findings at production size | {figures['over_budget']} |",
        "",
        f"Command: `migrasafe replay DIR --format json --rows {args.rows}"
        + (f" --sizes {args.sizes}" if args.sizes else "") + "`, with migrasafe's bytecode compiled first "
        "(as an installed package has it; PYTHONDONTWRITEBYTECODE is unset for the runs).",
        "",
    ]
    if breakdown is not None:
        lines += breakdown_lines(breakdown)
    text = "\n".join(lines)
    print(text)
    if not args.no_results:
        results = Path(args.results)
        kept = results.read_text().partition(NOTES)[2] if results.exists() else ""
        results.write_text(text + "\n" + NOTES + (kept or "\n"))
    return 0


def time_phases(folder: Path, options: list[str]) -> dict:
    """One more cold run, in a process of bench/replay_time.py's: where its time goes."""
    done = subprocess.run([sys.executable, str(HERE / "replay_time.py"), str(folder), *options],
                          capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        sys.exit(f"bench/replay_time.py failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def breakdown_lines(breakdown: dict) -> list[str]:
    wall = breakdown["wall_s"]
    lines = [
        f"Where the time of one more cold run goes ({wall:.1f} s in all; main thread, by the wall clock; "
        f"{breakdown['statement_runs']} statement runs; CPU: {breakdown['server_cpu_s']:.1f} s server, "
        f"{breakdown['client_cpu_s']:.1f} s migrasafe):",
        "",
        "| phase | s | share |",
        "| --- | --- | --- |",
    ]
    for phase, seconds in breakdown["phases_s"].items():
        lines.append(f"| {phase} | {seconds:.2f} | {seconds / wall:.0%} |")
    return lines + [""]


if __name__ == "__main__":
    sys.exit(main())
