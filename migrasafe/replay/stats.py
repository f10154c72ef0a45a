"""How many rows each table has in production: a `table,rows` CSV, a read-only query, or one number.

The CSV is what STATS_QUERY prints; run it against production (a replica is fine):

    psql "$PRODUCTION_URL" -c "\\copy ($(python -m migrasafe.replay.stats)) TO 'stats.csv' CSV HEADER"

`migrasafe replay --stats-from URL` runs the same query itself, in a read-only transaction.
The counts come from the planner's statistics (`reltuples`), so nothing is scanned.
"""
from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Partitioned tables count the rows of their leaf partitions; partitions themselves are not listed.
STATS_QUERY = """\
SELECT n.nspname || '.' || c.relname AS "table",
       CASE WHEN c.relkind = 'p' THEN
            (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)
             FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
       ELSE greatest(c.reltuples, 0) END::bigint AS "rows"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1"""

DEFAULT_ROWS = 1_000_000


class StatsError(ValueError):
    """A stats file or server that cannot be used; the message says which line or why."""


@dataclass
class ProductionRows:
    """Rows per table in production; tables it does not list have `default` rows."""

    default: int = DEFAULT_ROWS
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" or "table" -> rows
    source: str = f"--rows default ({DEFAULT_ROWS:,})"

    @property
    def largest(self) -> int:
        return max([self.default, *self.tables.values()])

    def rows(self, schema: str, table: str) -> int:
        for key in (f"{schema}.{table}", table):
            if key in self.tables:
                return self.tables[key]
        return self.default

    def to_json(self) -> dict:
        return {"source": self.source, "default": self.default, "tables": dict(sorted(self.tables.items()))}


def read_stats_file(path: str, default: int) -> ProductionRows:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StatsError(f"--stats {path}: cannot read: {err}") from None
    tables: dict[str, int] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise StatsError(f"--stats {path}:{number}: expected two columns, table,rows; got {len(row)}")
        name, count = row[0].strip(), row[1].strip()
        if number == 1 and not count.replace(",", "").replace("_", "").isdigit():
            continue  # header
        try:
            value = int(float(count))
        except ValueError:
            raise StatsError(f"--stats {path}:{number}: rows must be a whole number, not {count!r}") from None
        if value < 0 or not name:
            raise StatsError(f"--stats {path}:{number}: expected a table name and a row count of 0 or more")
        tables[unquote(name)] = value
    if not tables:
        raise StatsError(f"--stats {path}: no table,rows lines")
    return ProductionRows(default=default, tables=tables, source=f"--stats {path}")


def read_stats_from(dsn: str, default: int) -> ProductionRows:
    import psycopg

    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=15) as conn:
            conn.execute("SET statement_timeout = '60s'")
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                rows = conn.execute(STATS_QUERY).fetchall()
    except psycopg.Error as err:
        raise StatsError(f"--stats-from: {first_line(err)}") from None
    return ProductionRows(default=default, tables={name: int(count) for name, count in rows},
                          source="--stats-from (pg_class.reltuples)")


def unquote(name: str) -> str:
    parts = [part.strip() for part in name.split(".")]
    return ".".join(part[1:-1].replace('""', '"') if part.startswith('"') and part.endswith('"') else part
                    for part in parts)


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


if __name__ == "__main__":
    # One line, because psql's \copy reads its query up to the end of the line.
    sys.stdout.write(" ".join(STATS_QUERY.split()) + "\n")
