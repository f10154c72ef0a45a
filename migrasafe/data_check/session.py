"""A read-only session on the database whose rows the data check reads.

Three locks keep it from writing: the session's `default_transaction_read_only`, one
`BEGIN READ ONLY` transaction around every probe (REPEATABLE READ, so every probe sees the same
rows), and a ROLLBACK at the end. Each probe runs in its own savepoint under the transaction's
`statement_timeout`, so a probe that fails or times out costs only itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

APPLICATION_NAME = "migrasafe data check"


class DataCheckError(Exception):
    """The data check cannot run at all (no driver, no connection); the message says why."""


class ProbeTimeout(Exception):
    """A probe query ran past --data-timeout."""


class ProbeError(Exception):
    """A probe query failed; `data_error` when the rows made it fail (a cast, a domain check)."""

    def __init__(self, message: str, data_error: bool):
        super().__init__(message)
        self.data_error = data_error


@dataclass
class Column:
    name: str
    type: str  # format_type(): "integer", "character varying(20)", "public.mood"


@dataclass
class TableInfo:
    """What the database says about one table before the migrations run."""

    name: str  # schema.table as the catalog names it
    sql_name: str  # quoted for SQL
    columns: dict[str, Column] = field(default_factory=dict)
    key: list[Column] = field(default_factory=list)  # primary key columns; empty: none
    rows: float = 0.0  # pg_class.reltuples (leaves summed for a partitioned table); -1: never analysed


TABLE_QUERY = """
SELECT c.oid, c.relkind,
       CASE WHEN c.relkind = 'p' THEN
           (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)
              FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
       ELSE c.reltuples END::float8
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = {schema} AND c.relname = {table} AND c.relkind IN ('r', 'p')
"""
COLUMNS_QUERY = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a WHERE a.attrelid = {oid} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
KEY_QUERY = """
SELECT a.attname FROM pg_index i
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = {oid} AND i.indisprimary ORDER BY k.n
"""


class Session:
    def __init__(self, dsn: str, timeout_ms: int):
        try:
            import psycopg
        except ImportError:
            raise DataCheckError("--data-from needs psycopg: pip install 'migrasafe[replay]'") from None
        self.psycopg = psycopg
        self.timeout_ms = timeout_ms
        self._tables: dict[str, TableInfo | None] = {}
        self._savepoints = 0
        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME)
        except psycopg.Error as err:
            raise DataCheckError(f"--data-from: {first_line(err)}") from None
        try:
            self.conn.execute("SET default_transaction_read_only = on")
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            # Set before any savepoint, so that rolling one back keeps it.
            self.conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            self.major = self.conn.info.server_version // 10000
        except psycopg.Error as err:
            self.conn.close()
            raise DataCheckError(f"--data-from: {first_line(err)}") from None

    def close(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except self.psycopg.Error:
            pass
        self.conn.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- running probes ---------------------------------------------------------------------

    def query(self, sql: str) -> list[tuple]:
        """Rows of one probe, in a savepoint under the statement timeout. The text is sent as
        is (no parameters): an expression copied from a migration may hold a literal `%`."""
        errors = self.psycopg.errors
        self._savepoints += 1
        name = f"migrasafe_probe_{self._savepoints}"
        cur = self.conn.cursor()
        cur.execute(f"SAVEPOINT {name}")
        try:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
            self.last_types = [d.type_code for d in cur.description or ()]
        except errors.QueryCanceled:
            cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raise ProbeTimeout() from None
        except self.psycopg.Error as err:
            cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            state = getattr(err, "sqlstate", None) or ""
            # Class 22 (a value that does not convert) and 23 (a domain's CHECK) come from rows.
            raise ProbeError(first_line(err), data_error=state[:2] in ("22", "23")) from None
        cur.execute(f"RELEASE SAVEPOINT {name}")
        return rows

    def value(self, sql: str):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    # -- what the database holds ------------------------------------------------------------

    def table(self, name: str) -> TableInfo | None:
        """The table of this schema-qualified name, or None when the database has none."""
        if name not in self._tables:
            self._tables[name] = self._read_table(name)
        return self._tables[name]

    def _read_table(self, name: str) -> TableInfo | None:
        from ..plan.sql import literal, qualified

        schema, _, table = name.partition(".")
        found = self.query(TABLE_QUERY.format(schema=literal(schema), table=literal(table)))
        if not found:
            return None
        oid, _, rows = found[0]
        info = TableInfo(name, qualified(name), rows=float(rows))
        for column, kind in self.query(COLUMNS_QUERY.format(oid=int(oid))):
            info.columns[column] = Column(column, kind)
        info.key = [info.columns[c] for (c,) in self.query(KEY_QUERY.format(oid=int(oid))) if c in info.columns]
        return info

    def type_exists(self, type_sql: str) -> bool:
        from ..plan.sql import literal

        try:
            return self.value(f"SELECT to_regtype({literal(type_sql)}) IS NOT NULL") is True
        except (ProbeError, ProbeTimeout):
            return False

    def enum_labels(self, type_sql: str) -> list[str] | None:
        from ..plan.sql import literal

        try:
            rows = self.query(f"SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = to_regtype({literal(type_sql)}) "
                              "ORDER BY e.enumsortorder")
        except (ProbeError, ProbeTimeout):
            return None
        return [label for (label,) in rows] or None

    def type_category(self, oid: int) -> str:
        return self.value(f"SELECT typcategory FROM pg_type WHERE oid = {int(oid)}") or ""

    def constraint_definition(self, table: str, constraint: str) -> str | None:
        from ..plan.sql import literal, qualified

        return self.value(f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                          f"to_regclass({literal(qualified(table))}) AND conname = {literal(constraint)}")


def first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
