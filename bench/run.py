#!/usr/bin/env python3
"""Time `migrasafe check --format json` against `squawk --reporter json` on the same inputs.

    python bench/run.py                      # everything, default repeat counts
    python bench/run.py --small-runs 20      # more runs of the one-file case
    python bench/run.py --cases small        # only the pre-commit case

The inputs are generated into a temporary folder (deterministic, fixed seed):

    big    one file of 20,000 statements
    files  2,000 files of 3 to 10 statements in one folder (0001_create_t00001.sql, ...)
    small  one file of 5 statements (the pre-commit case)

Each command is run once to warm up (not counted), then N times, the two tools taking turns.
Wall time is measured around the whole process, so it includes the interpreter's start.
Standard library only; see bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Issue targets: warm (unchanged input, result cache filled) at most squawk's time and one small
# file within 100 ms; cold (--no-cache) at most twice squawk's time.
SMALL_TARGET_MS = 100.0
SMALL_COLD_TARGET_MS = 150.0
WARM, COLD = "migrasafe, warm", "migrasafe --no-cache"
COLD_ONE = "migrasafe --no-cache --jobs 1"  # the same on one process
WARM_LIMIT, COLD_LIMIT = 1.0, 2.0
PARSE_FLOOR = "floor: python + pglast parse only"
CASES = ("small", "files", "big")


# --- inputs ------------------------------------------------------------------------------------

# Tables that exist before the migrations run: statements on them hit "live" tables.
EXISTING = ("users", "orders", "accounts", "events", "payments", "invoices")
BASE_COLUMNS = [("id", "bigint"), ("parent_id", "bigint"), ("name", "text"), ("created_at", "timestamptz")]
EXTRA_TYPES = ["integer", "varchar(100)", "numeric(12,2)", "boolean", "text", "jsonb", "timestamp", "date"]
WIDER = {
    "integer": "bigint",
    "varchar(100)": "varchar(200)",
    "numeric(12,2)": "numeric(14,2)",
    "timestamp": "timestamptz",
    "text": "varchar(500)",
    "date": "timestamp",
}
DEFAULTS = {
    "integer": "0",
    "bigint": "0",
    "varchar(100)": "''",
    "varchar(200)": "''",
    "numeric(12,2)": "0",
    "boolean": "false",
    "text": "''",
    "jsonb": "'{}'::jsonb",
    "timestamp": "now()",
    "timestamptz": "now()",
    "date": "current_date",
}
WORDS = "alpha beta gamma delta kappa lambda sigma omega north south east west red green blue".split()

# (kind, weight): a realistic mix, heavier on data statements and ADD COLUMN.
MIX = [
    ("create_table", 8),
    ("create_index", 10),
    ("add_column", 12),
    ("alter_type", 5),
    ("add_fk", 6),
    ("set_not_null", 5),
    ("insert", 20),
    ("update", 12),
    ("comment", 7),
    ("create_view", 4),
    ("drop_index", 4),
    ("set_timeout", 3),
    ("add_check", 4),
]


@dataclass
class Table:
    name: str
    columns: list[tuple[str, str]] = field(default_factory=lambda: list(BASE_COLUMNS))


class Generator:
    """Valid PostgreSQL for a schema that grows as it goes; the same seed gives the same text."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.tables: list[Table] = [Table(name) for name in EXISTING]
        self.indexes: list[str] = []
        self.counter = 0
        kinds, weights = zip(*MIX)
        self.kinds, self.weights = list(kinds), list(weights)

    def serial(self) -> int:
        self.counter += 1
        return self.counter

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def table(self) -> Table:
        # Lean towards recent tables, as real migrations do, but keep touching old ones.
        if self.rng.random() < 0.6:
            return self.rng.choice(self.tables[-20:])
        return self.rng.choice(self.tables)

    def statement(self) -> tuple[str, str]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, getattr(self, kind)()

    def create_table(self) -> str:
        table = Table(f"t{self.serial():05d}")
        for _ in range(self.rng.randint(1, 5)):
            table.columns.append((f"c{self.serial()}", self.rng.choice(EXTRA_TYPES)))
        lines = ["  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "  parent_id bigint",
                 "  name text NOT NULL", "  created_at timestamptz NOT NULL DEFAULT now()"]
        lines += [f"  {name} {type_}" for name, type_ in table.columns[len(BASE_COLUMNS):]]
        self.tables.append(table)
        return f"CREATE TABLE {table.name} (\n" + ",\n".join(lines) + "\n);"

    def create_index(self) -> str:
        table = self.table()
        columns = self.rng.sample([c for c, _ in table.columns[1:]], k=min(2, self.rng.randint(1, 2)))
        name = f"{table.name}_{'_'.join(columns)}_{self.serial()}_idx"
        self.indexes.append(name)
        unique = "UNIQUE " if self.rng.random() < 0.15 else ""
        concurrently = "CONCURRENTLY " if self.rng.random() < 0.4 else ""
        where = " WHERE parent_id IS NOT NULL" if self.rng.random() < 0.1 else ""
        return f"CREATE {unique}INDEX {concurrently}{name} ON {table.name} ({', '.join(columns)}){where};"

    def add_column(self) -> str:
        table = self.table()
        name, type_ = f"c{self.serial()}", self.rng.choice(EXTRA_TYPES)
        table.columns.append((name, type_))
        roll = self.rng.random()
        if roll < 0.3:
            return f"ALTER TABLE {table.name} ADD COLUMN {name} {type_} NOT NULL DEFAULT {DEFAULTS[type_]};"
        if roll < 0.4:
            return f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {name} {type_} DEFAULT {DEFAULTS[type_]};"
        return f"ALTER TABLE {table.name} ADD COLUMN {name} {type_};"

    def alter_type(self) -> str:
        table = self.table()
        candidates = [(i, c, t) for i, (c, t) in enumerate(table.columns) if t in WIDER]
        if not candidates:
            return self.add_column()
        i, column, type_ = self.rng.choice(candidates)
        table.columns[i] = (column, WIDER[type_])
        return f"ALTER TABLE {table.name} ALTER COLUMN {column} TYPE {WIDER[type_]};"

    def add_fk(self) -> str:
        child, parent = self.table(), self.table()
        not_valid = " NOT VALID" if self.rng.random() < 0.4 else ""
        return (
            f"ALTER TABLE {child.name} ADD CONSTRAINT {child.name}_parent_{self.serial()}_fk "
            f"FOREIGN KEY (parent_id) REFERENCES {parent.name} (id){not_valid};"
        )

    def set_not_null(self) -> str:
        table = self.table()
        column = self.rng.choice([c for c, _ in table.columns[1:]])
        return f"ALTER TABLE {table.name} ALTER COLUMN {column} SET NOT NULL;"

    def add_check(self) -> str:
        table = self.table()
        not_valid = " NOT VALID" if self.rng.random() < 0.5 else ""
        return (
            f"ALTER TABLE {table.name} ADD CONSTRAINT {table.name}_name_{self.serial()}_check "
            f"CHECK (char_length(name) < 200){not_valid};"
        )

    def insert(self) -> str:
        table = self.table()
        rows = ", ".join(f"('{self.word()} {self.serial()}', {self.rng.randint(1, 9999)})"
                         for _ in range(self.rng.randint(1, 4)))
        return f"INSERT INTO {table.name} (name, parent_id) VALUES {rows};"

    def update(self) -> str:
        table = self.table()
        if self.rng.random() < 0.5:
            return f"UPDATE {table.name} SET name = '{self.word()}' WHERE id = {self.rng.randint(1, 99999)};"
        return f"UPDATE {table.name} SET parent_id = NULL WHERE created_at < now() - interval '30 days';"

    def comment(self) -> str:
        table = self.table()
        if self.rng.random() < 0.5:
            return f"COMMENT ON TABLE {table.name} IS 'the {self.word()} records';"
        column = self.rng.choice([c for c, _ in table.columns])
        return f"COMMENT ON COLUMN {table.name}.{column} IS '{self.word()} {self.word()}';"

    def create_view(self) -> str:
        table = self.table()
        replace = "OR REPLACE " if self.rng.random() < 0.3 else ""
        return (
            f"CREATE {replace}VIEW {table.name}_v{self.serial()} AS\n"
            f"  SELECT id, name, created_at FROM {table.name} WHERE parent_id IS NOT NULL;"
        )

    def drop_index(self) -> str:
        if not self.indexes:
            return self.create_index()
        name = self.indexes.pop(self.rng.randrange(len(self.indexes)))
        concurrently = "CONCURRENTLY " if self.rng.random() < 0.4 else ""
        return f"DROP INDEX {concurrently}IF EXISTS {name};"

    def set_timeout(self) -> str:
        return self.rng.choice(["SET lock_timeout = '2s';", "SET statement_timeout = '5min';"])


# The pre-commit case: one new migration against tables that already exist.
SMALL_SQL = """\
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
UPDATE orders SET note = '' WHERE note IS NULL;
COMMENT ON COLUMN orders.note IS 'free text from the customer';
"""


def write_inputs(root: Path, statements: int, files: int, seed: int) -> dict[str, tuple[Path, int, int]]:
    """case -> (path, files, statements)."""
    root.mkdir(parents=True, exist_ok=True)
    out = {}

    small = root / "small" / "0001_add_order_note.sql"
    small.parent.mkdir(exist_ok=True)
    small.write_text(SMALL_SQL, encoding="utf-8")
    out["small"] = (small, 1, SMALL_SQL.count(";\n"))

    gen = Generator(seed)
    folder = root / "files"
    folder.mkdir(exist_ok=True)
    total = 0
    for number in range(1, files + 1):
        count = gen.rng.randint(3, 10)
        kinds, texts = zip(*(gen.statement() for _ in range(count)))
        total += count
        (folder / f"{number:04d}_{kinds[0]}.sql").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    out["files"] = (folder, files, total)

    gen = Generator(seed + 1)
    big = root / "big" / "0001_big.sql"
    big.parent.mkdir(exist_ok=True)
    big.write_text("\n\n".join(gen.statement()[1] for _ in range(statements)) + "\n", encoding="utf-8")
    out["big"] = (big, 1, statements)
    return out


# --- running -----------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    code: int


@dataclass
class Row:
    case: str
    label: str
    runs: list[Run]
    note: str = ""

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    def best_ms(self) -> float:
        return 1000 * min(self.walls)

    def median_ms(self) -> float:
        return 1000 * statistics.median(self.walls)

    def cpu_ms(self) -> float:
        return 1000 * statistics.median(r.cpu for r in self.runs)


class Failure(Exception):
    pass


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def run_once(cmd: list[str], env: dict, cwd: Path, stdout_path: Path) -> tuple[Run, str]:
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        # wait4 gives the child's own CPU time along with its status.
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.stderr.close()
    child.returncode = code = os.waitstatus_to_exitcode(status)
    run = Run(wall, usage.ru_utime + usage.ru_stime, code)
    return run, stderr.decode("utf-8", "replace")


@dataclass
class Tool:
    label: str
    cmd: list[str]  # with {path} standing for the input
    env: dict

    def command(self, path: str) -> list[str]:
        return [part.replace("{path}", path) for part in self.cmd]


def check_migrasafe(expect_statements: int, expect_files: int):
    def check(code: int, stdout_path: Path, stderr: str) -> str:
        if code not in (0, 1):
            raise Failure(f"exit {code} (0 or 1 expected): {stderr.strip()[-2000:]}")
        try:
            data = json.loads(stdout_path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise Failure(f"output is not JSON: {err}") from None
        if data.get("tool") != "migrasafe":
            raise Failure("output is not a migrasafe report")
        migrations = data["migrations"]
        statements = sum(len(m["statements"]) for m in migrations)
        findings = sum(len(m["findings"]) + sum(len(s["findings"]) for s in m["statements"])
                       for m in migrations) + len(data["findings"])
        if len(migrations) != expect_files or statements != expect_statements:
            raise Failure(f"checked {len(migrations)} files / {statements} statements, "
                          f"expected {expect_files} / {expect_statements}")
        return f"{plural(findings, 'finding')} in {plural(statements, 'statement')}"
    return check


def check_parse_floor(expect_statements: int):
    def check(code: int, stdout_path: Path, stderr: str) -> str:
        text = stdout_path.read_text(encoding="utf-8").strip()
        if code != 0 or text != str(expect_statements):
            raise Failure(f"exit {code}, printed {text!r}, expected {expect_statements}: {stderr.strip()[-500:]}")
        return f"{plural(expect_statements, 'statement')} parsed, nothing else"
    return check


def check_squawk(code: int, stdout_path: Path, stderr: str) -> str:
    # squawk exits 1 both for violations and for some errors ("Failed to find files"), so the
    # output must be a JSON list, and an exit 1 must come with violations.
    if code not in (0, 1):
        raise Failure(f"exit {code} (0 or 1 expected): {stderr.strip()[-2000:]}")
    text = stdout_path.read_text(encoding="utf-8").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError as err:
        raise Failure(f"output is not JSON: {err}; stderr: {stderr.strip()[-500:]}") from None
    if not isinstance(data, list):
        raise Failure(f"no JSON list on stdout; stderr: {stderr.strip()[-500:]}")
    if code == 1 and not data:
        raise Failure(f"exit 1 without violations: {stderr.strip()[-500:]}")
    files = len({v.get("file") for v in data})
    return f"{plural(len(data), 'violation')} in {plural(files, 'file')}"


def measure(case: str, jobs: list[tuple[Tool, str]], runs: int, scratch: Path, checks: dict) -> list[Row]:
    """Run each (tool, input) once to warm up, then `runs` times, the tools taking turns."""
    rows = {tool.label: Row(case, tool.label, []) for tool, _ in jobs}
    for round_ in range(runs + 1):  # round 0 warms up and is not counted
        order = jobs if round_ % 2 else list(reversed(jobs))
        for tool, path in order:
            out = scratch / "stdout.json"
            cmd = tool.command(path)
            run, stderr = run_once(cmd, tool.env, scratch, out)
            check = checks.get(tool.label)
            if check is not None:
                try:
                    rows[tool.label].note = check(run.code, out, stderr)
                except Failure as err:
                    raise Failure(f"{case}: {tool.label}: {' '.join(cmd)}: {err}") from None
            elif run.code != 0:
                raise Failure(f"{case}: {' '.join(cmd)}: exit {run.code}: {stderr.strip()[-2000:]}")
            if round_:
                rows[tool.label].runs.append(run)
    return [rows[tool.label] for tool, _ in jobs]


# --- environment ------------------------------------------------------------------------------


def find_tool(name: str, given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        sys.exit(f"bench: `{name}` not found beside {sys.executable} or on PATH (see bench/README.md)")
    return found


def script_python(script: str) -> str:
    """The interpreter a console script runs under (its #! line), else this one."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        words = first[2:].split()
        if words and "python" in Path(words[-1]).name and os.path.exists(words[-1]):
            return words[-1]
        if words and "python" in Path(words[0]).name and os.path.exists(words[0]):
            return words[0]
    return sys.executable


def output_of(cmd: list[str], env: dict | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unknown ({err})"
    return (done.stdout or done.stderr).strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> str:
    return output_of(["nproc"]) if shutil.which("nproc") else str(os.cpu_count())


def machine(python: str, squawk: str, migrasafe: str) -> dict[str, str]:
    probe = (
        "import sys, importlib.metadata as m\n"
        "print(sys.version.split()[0])\n"
        "print(m.version('pglast'))\n"
        "print(m.version('PyYAML'))\n"
        "try:\n    import yaml; print('yes' if getattr(yaml, '__with_libyaml__', False) else 'no')\n"
        "except ImportError:\n    print('no')\n"
    )
    lines = output_of([python, "-c", probe]).splitlines() + ["?"] * 4
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": nproc(),
        "cpu": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": lines[0],
        "pglast": lines[1],
        "pyyaml": f"{lines[2]} (libyaml: {lines[3]})",
        "migrasafe": output_of([migrasafe, "--version"]),
        "squawk": output_of([squawk, "--version"]),
    }


def source_revision(package: str | None) -> str:
    """The commit of the checkout migrasafe runs from, and whether its sources differ from it."""
    if not package or not shutil.which("git"):
        return "not a git checkout"
    root = Path(package).parent
    head = output_of(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    if not head or " " in head:
        return "not a git checkout"
    try:
        dirty = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD", "--", "migrasafe", "rules"],
                               capture_output=True, timeout=60).returncode == 1
    except (OSError, subprocess.TimeoutExpired):
        dirty = False
    return f"{head} (with uncommitted changes)" if dirty else head


def package_dir(python: str, env: dict) -> str | None:
    text = output_of([python, "-c", "import os, migrasafe; print(os.path.dirname(os.path.abspath(migrasafe.__file__)))"],
                     env=env)
    return text if text and os.path.isdir(text) else None


def drop_cached_bytecode(prefix: Path, source_dir: str) -> None:
    """Remove the cached bytecode of one source folder from a PYTHONPYCACHEPREFIX tree."""
    mirrored = prefix / Path(source_dir).relative_to(Path(source_dir).anchor)
    shutil.rmtree(mirrored, ignore_errors=True)


# --- report ------------------------------------------------------------------------------------

CASE_TITLES = {
    "small": "1 file, {statements} statements (pre-commit)",
    "files": "{files:,} files, {statements:,} statements",
    "big": "1 file, {statements:,} statements",
}


def table(rows: list[Row], inputs: dict) -> list[str]:
    head = ["| case | tool | runs | best ms | median ms | CPU ms (median) | output |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    lines = []
    for row in rows:
        if row.case in inputs:
            _, files, statements = inputs[row.case]
            title = CASE_TITLES[row.case].format(files=files, statements=statements)
        else:
            title = row.case
        lines.append(
            f"| {title} | {row.label} | {len(row.runs)} | {row.best_ms():,.0f} | {row.median_ms():,.0f} | "
            f"{row.cpu_ms():,.0f} | {row.note} |"
        )
    return head + lines


def verdicts(rows: list[Row]) -> list[str]:
    out = []
    by = {(r.case, r.label): r for r in rows}
    for case in ("files", "big"):
        sq = by.get((case, "squawk"))
        floor = by.get((case, PARSE_FLOOR))
        if floor and sq:
            out.append(f"- {case}: starting Python and building pglast's trees alone takes "
                       f"{floor.median_ms():,.0f} ms, {floor.median_ms() / max(sq.median_ms(), 1e-9):,.1f}x "
                       f"squawk's whole run")
        for label, limit in ((COLD, COLD_LIMIT), (WARM, WARM_LIMIT)):
            ms = by.get((case, label))
            if ms and sq:
                ratio = ms.median_ms() / max(sq.median_ms(), 1e-9)
                out.append(f"- {case}: {label} at most {limit:.1f}x squawk (median {ms.median_ms():,.0f} ms vs "
                           f"{sq.median_ms():,.0f} ms, {ratio:,.1f}x): {'met' if ratio <= limit else 'MISSED'}")
    for label in (WARM, "migrasafe, warm, no bytecode", COLD):
        row = by.get(("small", label))
        if row:
            target = SMALL_TARGET_MS if label != COLD else SMALL_COLD_TARGET_MS
            ok = row.median_ms() <= target
            out.append(f"- small ({label}): median {row.median_ms():,.0f} ms, best {row.best_ms():,.0f} ms, "
                       f"target {target:.0f} ms: {'met' if ok else 'MISSED'}")
    return out


def print_table(rows: list[Row], inputs: dict) -> None:
    widths = (42, 34, 5, 9, 10, 8)
    header = ("case", "tool", "runs", "best ms", "median ms", "CPU ms")
    print("  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    for row in rows:
        if row.case in inputs:
            _, files, statements = inputs[row.case]
            title = CASE_TITLES[row.case].format(files=files, statements=statements)
        else:
            title = row.case
        cells = (title, row.label, str(len(row.runs)), f"{row.best_ms():,.0f}", f"{row.median_ms():,.0f}",
                 f"{row.cpu_ms():,.0f}")
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))


def write_results(path: Path, info: dict, rows: list[Row], inputs: dict, args, load: tuple, tools: dict) -> None:
    lines = [
        "# Benchmark: migrasafe and squawk",
        "",
        f"Written by `python bench/run.py` on {info['date']}"
        f" (seed {args.seed}; {args.small_runs} runs of the small file, {args.batch_runs} of each batch,"
        " after one warm-up run each).",
        "",
        "## Machine",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| CPUs (`nproc`) | {info['nproc']} |",
        f"| CPU model | {info['cpu']} |",
        f"| OS | {info['os']} |",
        f"| Python | {info['python']} |",
        f"| pglast | {info['pglast']} |",
        f"| PyYAML | {info['pyyaml']} |",
        f"| migrasafe | {info['migrasafe']}, source {info['revision']} |",
        f"| squawk | {info['squawk']} |",
        f"| load average (1 min) before / after | {load[0]:.2f} / {load[1]:.2f} |",
        "",
        "## Figures",
        "",
        "Wall time of the whole process (interpreter start included), best and median of the runs;",
        "CPU is the child's user + system time. Output goes to a file and is checked after each run.",
        "",
        *table(rows, inputs),
        "",
        "## Targets",
        "",
        *verdicts(rows),
        "",
        "## Commands",
        "",
        *[f"- {label}: `{' '.join([Path(cmd[0]).name, *cmd[1:]]).replace('{path}', 'PATH')}`"
          for label, cmd in tools.items()],
        "",
        "squawk takes files or glob patterns, not folders: the folder case passes it the pattern",
        "`FOLDER/*.sql` (quoted, so squawk expands it), and migrasafe the folder itself.",
        "\"migrasafe\" runs with bytecode caching on (as an installed package has it), in a private",
        "cache folder (`PYTHONPYCACHEPREFIX`) so nothing is written beside the sources;",
        "\"migrasafe, no bytecode\" has the cached bytecode of migrasafe's own modules removed and",
        "`PYTHONDONTWRITEBYTECODE=1`, so they are compiled on every run (an editable checkout in an",
        "environment that never writes bytecode). \"python -c pass\" is the interpreter's own start.",
        f"\"{PARSE_FLOOR}\" (`bench/parse_floor.py`) starts Python, imports pglast and builds the",
        "syntax trees of the same input, and does nothing else: the least a checker built on pglast",
        "pays before any analysis.",
        "A CPU time above the wall time means the tool used more than one core.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


# --- main --------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-runs", type=int, default=5, metavar="N", help="timed runs of the small file (5)")
    parser.add_argument("--batch-runs", type=int, default=3, metavar="N", help="timed runs of each batch (3)")
    parser.add_argument("--statements", type=int, default=20_000, help="statements in the big file (20000)")
    parser.add_argument("--files", type=int, default=2_000, help="files in the folder case (2000)")
    parser.add_argument("--seed", type=int, default=20240601, help="generator seed")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: small,files,big")
    parser.add_argument("--migrasafe", help="the migrasafe command (default: beside this Python, or on PATH)")
    parser.add_argument("--squawk", help="the squawk command (default: beside this Python, or on PATH)")
    parser.add_argument("--results", type=Path, default=HERE / "results.md", help="Markdown results file")
    parser.add_argument("--no-results", action="store_true", help="print the table only")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate the inputs here and keep them")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    if args.small_runs < 1 or args.batch_runs < 1:
        parser.error("runs must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    migrasafe = find_tool("migrasafe", args.migrasafe)
    squawk = find_tool("squawk", args.squawk)
    python = script_python(migrasafe)

    with tempfile.TemporaryDirectory(prefix="migrasafe-bench-") as tmp:
        tmp = Path(tmp)
        # Six folders below the temporary folder: the readers look up to six folders above a
        # migration folder for a project root (a Liquibase master changelog), and a run during
        # which a folder it looked through changed (the shared /tmp) is not kept for replay.
        root = args.keep.resolve() if args.keep else tmp / "a" / "b" / "c" / "d" / "inputs"
        inputs = write_inputs(root, args.statements, args.files, args.seed)
        scratch = tmp / "run"
        scratch.mkdir()
        pycache = tmp / "pycache"

        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        with_bytecode = {**base, "PYTHONPYCACHEPREFIX": str(pycache)}
        without_bytecode = {**with_bytecode, "PYTHONDONTWRITEBYTECODE": "1"}
        info = machine(python, squawk, migrasafe)
        info["revision"] = source_revision(package_dir(python, with_bytecode))
        load_before = os.getloadavg()[0]

        # Warm: the run before (the warm-up) filled a private result cache, and the input is unchanged.
        warm_env = {**with_bytecode, "MIGRASAFE_CACHE_DIR": str(tmp / "cache")}
        ms = Tool(WARM, [migrasafe, "check", "{path}", "--format", "json"], warm_env)
        cold = Tool(COLD, [*ms.cmd, "--no-cache"], with_bytecode)
        cold_one = Tool(COLD_ONE, [*cold.cmd, "--jobs", "1"], with_bytecode)
        ms_source = Tool("migrasafe, warm, no bytecode", ms.cmd, {**without_bytecode, **{"MIGRASAFE_CACHE_DIR": str(tmp / "cache")}})
        sq = Tool("squawk", [squawk, "--reporter", "json", "{path}"], base)
        floor = Tool("python -c pass", [python, "-c", "pass"], with_bytecode)
        parse_only = Tool(PARSE_FLOOR, [python, str(HERE / "parse_floor.py"), "{path}"], with_bytecode)
        commands = {WARM: ms.cmd, COLD: cold.cmd, COLD_ONE: cold_one.cmd, "squawk": sq.cmd, PARSE_FLOOR: [python, "bench/parse_floor.py", "{path}"]}

        rows: list[Row] = []
        for case in CASES:
            if case not in args.cases:
                continue
            path, files, statements = inputs[case]
            check = check_migrasafe(statements, files)
            checks = {WARM: check, COLD: check, COLD_ONE: check, ms_source.label: check, "squawk": check_squawk}
            print(f"bench: {case}: {files:,} file(s), {statements:,} statements ...", file=sys.stderr, flush=True)
            # migrasafe reads a folder; squawk takes files or patterns, so it gets FOLDER/*.sql.
            pattern = str(path / "*.sql") if path.is_dir() else str(path)
            jobs = [(cold, str(path)), (ms, str(path)), (sq, pattern)]
            if case != "small":
                checks[PARSE_FLOOR] = check_parse_floor(statements)
                rows += measure(case, jobs + [(cold_one, str(path)), (parse_only, str(path))], args.batch_runs, scratch,
                                checks)
                continue
            found = measure(case, jobs + [(floor, "")], args.small_runs, scratch, checks)
            source_dir = package_dir(python, with_bytecode)
            if source_dir:
                # Same cache, less migrasafe's own modules, and nothing written back.
                drop_cached_bytecode(pycache, source_dir)
                found[1:1] = measure(case, [(ms_source, str(path))], args.small_runs, scratch, checks)
            rows += found
        load_after = os.getloadavg()[0]

    print()
    print_table(rows, inputs)
    print()
    for line in verdicts(rows):
        print(line)
    if not args.no_results:
        write_results(args.results, info, rows, inputs, args, (load_before, load_after), commands)
        print(f"\nwrote {args.results}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as err:
        sys.exit(f"bench: {err}")
