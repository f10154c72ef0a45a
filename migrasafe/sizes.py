"""Size-aware severity: how long a lock is held depends on how big the table is.

A blocking index build on a 300-row lookup table is over before anyone notices; on a 50 GB
table it is an outage. Given table sizes — a stats file, or read from a database with
`--stats-from DSN` — findings of the rules whose cost grows with the table are lowered to info
when every table they touch is small, and raised to error when any is large. Without sizes,
or for tables the sizes do not list, severities stay as they are.

Stats file (JSON or YAML), as `migrasafe stats DSN` writes it:

    {"public.orders": {"rows": 1200000, "bytes": 53687091200}, "public.countries": {"rows": 250}}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .model import AnalysedStatement, Finding, Report

# Rules whose lock is held while the table is read or rewritten in full.
SIZE_SENSITIVE = (
    "MS001", "MS003", "MS010", "MS011", "MS012", "MS013", "MS014", "MS015", "MS016",
    "MS020", "MS021", "MS022", "MS023", "MS024", "MS027", "MS030", "MS033", "MS034",
)
# Rules raised to error on a large table only when the transaction already holds a lock that
# blocks writes: otherwise a long data change costs row locks and WAL, not an outage.
ERROR_UNDER_STRONG_LOCK = ("MS033",)
UNITS = {"": 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?b?)\s*$", re.I)


class SizesError(Exception):
    """Sizes or thresholds that cannot be used; the message names the file or setting."""


@dataclass(frozen=True)
class TableSize:
    rows: int | None = None
    bytes: int | None = None


@dataclass
class Thresholds:
    # At or below both small figures a table is small; at or above either large figure, large.
    small_rows: int = 10_000
    small_bytes: int = 10 * 1024**2
    large_rows: int = 10_000_000
    large_bytes: int = 10 * 1024**3
    rules: tuple[str, ...] = field(default=SIZE_SENSITIVE)

    def is_small(self, size: TableSize) -> bool:
        known = [(v, limit) for v, limit in ((size.rows, self.small_rows), (size.bytes, self.small_bytes))
                 if v is not None]
        return bool(known) and all(v <= limit for v, limit in known)

    def is_large(self, size: TableSize) -> bool:
        return (size.rows is not None and size.rows >= self.large_rows) or (
            size.bytes is not None and size.bytes >= self.large_bytes
        )


def parse_size(value, what: str) -> int:
    """Bytes from 1048576, "10MB", "1.5 GB" (powers of 1024, like pg_size_pretty)."""
    if isinstance(value, bool):
        raise SizesError(f"{what} must be a size such as 10GB, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SizesError(f"{what} must not be negative")
        return value
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return int(value)
    match = SIZE.match(value) if isinstance(value, str) else None
    if not match:
        raise SizesError(f"{what} must be a size such as 10GB or a number of bytes, not {value!r}")
    unit = match.group(2).lower()
    if unit and not unit.endswith("b"):
        unit += "b"
    return int(float(match.group(1)) * UNITS[unit])


def parse_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or not math.isfinite(value):
        raise SizesError(f"{what} must be a number of rows, not {value!r}")
    return int(value)


def thresholds_from_table(table: dict, where: str) -> Thresholds:
    """[tool.migrasafe.sizes]: small = {rows, bytes}, large = {rows, bytes}, rules = [...]."""
    if not isinstance(table, dict):
        raise SizesError(f"{where}: sizes must be a table")
    unknown = sorted(set(table) - {"small", "large", "rules"})
    if unknown:
        raise SizesError(f"{where}: unknown key(s) in sizes: {', '.join(unknown)}")
    limits = Thresholds()
    for level in ("small", "large"):
        part = table.get(level, {})
        if not isinstance(part, dict) or set(part) - {"rows", "bytes"}:
            raise SizesError(f"{where}: sizes.{level} must be a table with rows and/or bytes")
        if "rows" in part:
            setattr(limits, f"{level}_rows", parse_count(part["rows"], f"{where}: sizes.{level}.rows"))
        if "bytes" in part:
            setattr(limits, f"{level}_bytes", parse_size(part["bytes"], f"{where}: sizes.{level}.bytes"))
    if limits.small_rows >= limits.large_rows or limits.small_bytes >= limits.large_bytes:
        raise SizesError(f"{where}: sizes.small must be below sizes.large")
    if "rules" in table:
        rules = table["rules"]
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise SizesError(f"{where}: sizes.rules must be a list of rule ids or names")
        limits.rules = tuple(rules)
    return limits


def resolve_rules(limits: Thresholds) -> set[str]:
    from .rules.registry import find_rule

    ids = set()
    for word in limits.rules:
        rule = find_rule(word)
        if rule is None:
            raise SizesError(f"sizes.rules: unknown rule {word!r}")
        ids.add(rule.id)
    return ids


# --- where sizes come from ----------------------------------------------------------------


def load_stats(path: Path) -> dict[str, TableSize]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SizesError(f"stats file {path} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SizesError(f"cannot read stats file {path}: {err}") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as err:
        raise SizesError(f"stats file {path} is neither JSON nor YAML: {err}") from None
    if isinstance(data, dict) and isinstance(data.get("tables"), dict):
        data = data["tables"]
    if not isinstance(data, dict):
        raise SizesError(f"stats file {path}: expected a mapping of table name to rows and bytes")
    stats = {}
    for name, entry in data.items():
        what = f"stats file {path}: {name}"
        if not isinstance(entry, dict) or not entry or set(entry) - {"rows", "bytes"}:
            raise SizesError(f"{what}: expected {{rows: N, bytes: N}}")
        rows = parse_count(entry["rows"], f"{what}: rows") if "rows" in entry else None
        size = parse_size(entry["bytes"], f"{what}: bytes") if "bytes" in entry else None
        stats[qualified(str(name))] = TableSize(rows, size)
    return stats


# reltuples is the planner's estimate from the last VACUUM or ANALYZE (0 or -1 before the first);
# the statistics collector's live-tuple count only fills that gap, because pending counters can
# be added on top of an ANALYZE's figure and overcount.
ROWS = "CASE WHEN {r}.reltuples > 0 THEN {r}.reltuples ELSE pg_stat_get_live_tuples({r}.oid) END"
SIZES_QUERY = f"""
SELECT n.nspname, c.relname,
       CASE WHEN c.relkind = 'p' THEN
           (SELECT coalesce(sum({ROWS.format(r="p")}), 0)
              FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
       ELSE {ROWS.format(r="c")} END::bigint,
       CASE WHEN c.relkind = 'p' THEN
           (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)
              FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
       ELSE pg_total_relation_size(c.oid) END::bigint
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""


def stats_from_dsn(dsn: str) -> dict[str, TableSize]:
    """Row estimates and on-disk sizes of every table, read in a read-only transaction."""
    try:
        import psycopg
    except ImportError:
        raise SizesError(
            "--stats-from needs psycopg: pip install 'migrasafe[replay]' (or write a stats file)"
        ) from None
    try:
        with psycopg.connect(dsn, connect_timeout=10, application_name="migrasafe stats") as conn:
            conn.read_only = True
            with conn.cursor() as cur:
                cur.execute("SET LOCAL statement_timeout = '60s'")
                cur.execute(SIZES_QUERY)
                rows = cur.fetchall()
            conn.rollback()
    except psycopg.Error as err:
        detail = str(err).strip().splitlines()
        raise SizesError(f"--stats-from: {detail[0] if detail else type(err).__name__}") from None
    return {f"{schema}.{table}": TableSize(int(count), int(size)) for schema, table, count, size in rows}


def qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


# --- applying them ------------------------------------------------------------------------


def apply_sizes(report: Report, stats: dict[str, TableSize], limits: Thresholds) -> int:
    """Adjust the severity of size-sensitive findings; returns how many changed."""
    rules = resolve_rules(limits)
    changed = 0
    for result in report.results:
        for analysed in result.statements:
            for finding in analysed.findings:
                if finding.rule in rules and adjust(finding, analysed, stats, limits):
                    changed += 1
    return changed


def adjust(finding: Finding, analysed: AnalysedStatement, stats: dict[str, TableSize], limits: Thresholds) -> bool:
    relations = touched(analysed)
    known = {r: stats[r] for r in relations if r in stats}
    large = [r for r, size in known.items() if limits.is_large(size)]
    if large:
        new, reason = "error", large
        if finding.rule in ERROR_UNDER_STRONG_LOCK and not analysed.strong_lock_held:
            new = finding.severity
    elif relations and len(known) == len(relations) and all(limits.is_small(s) for s in known.values()):
        new, reason = "info", relations
    else:
        return False
    described = ", ".join(f"{r} has {describe(known[r])}" for r in reason)
    if new == finding.severity:
        finding.message += f" ({described})"
        return False
    direction = "raised" if new == "error" else "lowered"
    finding.message += f" ({described}: severity {direction} from {finding.severity} to {new})"
    finding.severity = new
    return True


def touched(analysed: AnalysedStatement) -> list[str]:
    """The live relations whose size decides how long the statement holds its lock."""
    read = [r for r in dict.fromkeys(analysed.impact.rewrites + analysed.impact.scans) if r in analysed.live]
    if read:
        return read
    return [l.relation for l in analysed.impact.locks if l.relation in analysed.live]


def describe(size: TableSize) -> str:
    parts = []
    if size.rows is not None:
        parts.append(f"{size.rows:,} rows")
    if size.bytes is not None:
        parts.append(pretty_bytes(size.bytes))
    return ", ".join(parts)


def pretty_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024:
            return f"{count} bytes" if unit == "bytes" else f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"
