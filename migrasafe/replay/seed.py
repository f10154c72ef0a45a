"""Fill the tables of a replay database with synthetic rows shaped by their schema.

Rows are made on the server by one INSERT ... SELECT over generate_series per chunk, so a million
rows take seconds. Each row honours:

* NOT NULL: every generated column gets a value (nullable ones too, so that a later
  SET NOT NULL is judged on its locks, not on data the generator invented);
* primary and unique keys: values built from the row number, and ON CONFLICT DO NOTHING for
  the keys that still collide (then more rows are made until the count is reached); where no
  key can repeat over the row numbers tried (distinct.py), the insert goes without it;
* foreign keys: parents are seeded first and children pick existing parent keys; a column
  `customer_id` beside a table `customers` is treated as one even before the key is declared;
* enum labels, and CHECK constraints: simple ones (IN lists, bounds, lengths) steer the values,
  and every CHECK also filters the rows, so none is violated;
* partitions: partition keys take values from the partitions' bounds, and rows are filtered
  through the partition constraints.

Identity, generated and sequence-default columns are left to the server. A table that cannot be
seeded (a type with no generator in a NOT NULL column, a NOT NULL foreign key to an empty
table) is reported and left as it is; the replay goes on.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import psycopg
from psycopg import sql as q

from .distinct import ENDLESS, distinct_rows, distinct_run
from .hints import Hint, check_hints
from .schema import Column, ForeignKey, Table, read_tables
from .seeding import ahead_tables, seed_tables
from .values import value_sql

CHUNK_ROWS = 100_000
# Children reference at most this many distinct parent keys (kept in a temporary table).
PARENT_KEYS = 100_000
# Give up on a table after making this many times the rows wanted (the rest fell out on filters).
MAX_ATTEMPT_FACTOR = 4


@dataclass
class SeedResult:
    schema: str
    name: str
    wanted: int
    inserted: int = 0
    ms: float = 0.0
    problem: str | None = None

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Seeder:
    conn: psycopg.Connection  # autocommit
    superuser: bool
    on_progress: Callable[[str, int, int], None] = lambda label, done, total: None
    seeded: set[int] = field(default_factory=set)  # oids already seeded in this database
    # A second connection to the same database seeds tables beside this one (seeding.py).
    helper_conninfo: str | None = None
    _key_tables: int = 0
    _helper: Seeder | None = None

    def seed(self, rows_for: Callable[[str, str], int], only: set[str] | None = None,
             ahead: Iterable[tuple[set[str], set[str]]] = ()) -> list[SeedResult]:
        """Seed every table not seeded before, parents first, to rows_for(schema, table) rows.

        `only` (schema-qualified names) limits it to those tables and the parents their foreign
        keys reference: a table nothing touches yet is seeded when something does. When some of
        them need seeding, the tables `ahead` names that can be seeded now with the same rows
        are seeded with them (seeding.ahead_tables).
        """
        if only is not None:
            kinds = self.kinds_of(only)
            if kinds is None:
                only = None  # a view, a partition or a trigger reaches tables the names do not show
            elif all(oid in self.seeded for oid in kinds):
                return []
        tables = read_tables(self.conn)
        for table in tables.values():
            table.foreign_keys.extend(implied_foreign_keys(table, tables))
        todo = [t for oid, t in tables.items() if oid not in self.seeded]
        if only is not None:
            todo = with_parents([t for t in todo if t.qualified in only], tables, self.seeded)
            if todo:
                later = ahead_tables(ahead, tables, self.seeded)
                if later and self.kinds_of({t.qualified for t in later}) is not None:
                    chosen = {t.oid for t in todo}
                    todo += [t for t in later if t.oid not in chosen]
        if self.superuser:
            # Foreign keys are correct by construction; checking them row by row would triple the time.
            self.conn.execute("SET session_replication_role = replica")
        try:
            return seed_tables(self, self.helper() if len(todo) > 1 else None, parents_first(todo), rows_for)
        finally:
            if self.superuser:
                self.conn.execute("RESET session_replication_role")

    def helper(self) -> Seeder | None:
        """The second seeder, on its own connection (opened at first use); None without one."""
        if self._helper is None and self.helper_conninfo is not None:
            try:
                conn = psycopg.connect(self.helper_conninfo, autocommit=True, connect_timeout=15)
            except psycopg.Error:
                self.helper_conninfo = None  # seed on the one connection
                return None
            if self.superuser:
                conn.execute("SET session_replication_role = replica")
            self._helper = Seeder(conn, superuser=self.superuser, on_progress=self.on_progress, seeded=self.seeded)
        return self._helper

    def close(self) -> None:
        if self._helper is not None:
            self._helper.conn.close()
            self._helper = None

    def kinds_of(self, names: set[str]) -> dict[int, str] | None:
        """The existing tables among `names` (oid -> kind), or None when their rows could reach
        others: one is a view, a partition or another kind, or user triggers exist."""
        rows = self.conn.execute(
            "SELECT c.oid, c.relkind::text, c.relispartition, "
            "EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal) "
            "OR EXISTS (SELECT 1 FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class "
            "WHERE v.relkind IN ('r', 'p') AND r.rulename <> '_RETURN') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname || '.' || c.relname = ANY(%s) "
            "UNION ALL SELECT NULL, NULL, NULL, EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal)",
            [sorted(names)]).fetchall()
        if any(reaching for *_, reaching in rows):
            return None
        found = {oid: kind for oid, kind, partition, _ in rows if oid is not None}
        if any(kind not in ("r", "p", "S", "i", "I") for kind in found.values()) or any(p for _, _, p, _ in rows):
            return None
        return {oid: kind for oid, kind in found.items() if kind in ("r", "p")}

    def seed_table(self, table: Table, wanted: int) -> SeedResult | None:
        if wanted <= 0:
            return None
        started = time.perf_counter()
        result = SeedResult(table.schema, table.name, wanted)
        target = q.Identifier(table.schema, table.name)
        try:
            existing = self.conn.execute(q.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
            if existing >= wanted:
                return None
            plan = InsertPlan.build(self, table)
            base = self.first_row_number(table, existing)
            need = wanted - existing
            statement = plan.for_rows(existing, need)
            made = 0
            while result.inserted < need and made < attempts(need):
                chunk = min(CHUNK_ROWS, need - result.inserted)
                low = base + made + 1
                try:
                    count = self.conn.execute(statement, {"low": low, "high": low + chunk - 1}).rowcount
                except psycopg.errors.UniqueViolation:
                    if statement is plan.statement:
                        raise
                    statement = plan.statement
                    count = self.conn.execute(statement, {"low": low, "high": low + chunk - 1}).rowcount
                made += chunk
                result.inserted += max(count, 0)
                self.on_progress(f"seeding {table.qualified}", result.inserted, need)
                if count <= 0 and made >= need:
                    break
            if result.inserted < need:
                result.problem = (f"only {result.inserted:,} of {need:,} rows could be made: the rest broke "
                                  "a key or a constraint")
        except (psycopg.Error, SeedError) as err:
            result.problem = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        finally:
            self.drop_key_tables()
        result.ms = (time.perf_counter() - started) * 1000
        return result

    def first_row_number(self, table: Table, existing: int) -> int:
        """Start row numbers past the rows already there, so generated keys do not collide with them."""
        base = existing
        for key in table.unique_keys:
            for name in key:
                column = table.column(name)
                if column is not None and column.base in ("int2", "int4", "int8") and not column.filled_by_server:
                    found = self.conn.execute(q.SQL("SELECT max({}) FROM {}").format(
                        q.Identifier(name), q.Identifier(table.schema, table.name))).fetchone()[0]
                    base = max(base, int(found or 0))
        return base

    def parent_keys(self, parent_oid: int, columns: list[str]) -> tuple[str, int]:
        """A temporary table (rn, columns...) of existing parent keys; its name and row count."""
        self._key_tables += 1
        name = f"migrasafe_keys_{self._key_tables}"
        parent = self.conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
            [parent_oid]).fetchone()
        cols = q.SQL(", ").join(q.Identifier(c) for c in columns)
        not_null = q.SQL(" AND ").join(q.SQL("{} IS NOT NULL").format(q.Identifier(c)) for c in columns)
        self.conn.execute(q.SQL(
            "CREATE TEMP TABLE {} AS SELECT row_number() OVER () AS rn, {} FROM {} WHERE {} LIMIT {}"
        ).format(q.Identifier(name), cols, q.Identifier(*parent), not_null, q.Literal(PARENT_KEYS)))
        count = self.conn.execute(q.SQL("SELECT count(*) FROM {}").format(q.Identifier(name))).fetchone()[0]
        self.conn.execute(q.SQL("CREATE UNIQUE INDEX ON {} (rn)").format(q.Identifier(name)))
        return name, count

    def drop_key_tables(self) -> None:
        for number in range(1, self._key_tables + 1):
            self.conn.execute(q.SQL("DROP TABLE IF EXISTS {}").format(q.Identifier(f"migrasafe_keys_{number}")))
        self._key_tables = 0


class SeedError(Exception):
    pass


def attempts(need: int) -> int:
    """Row numbers tried at most for `need` rows (the rest fell out on filters or keys)."""
    return MAX_ATTEMPT_FACTOR * need + CHUNK_ROWS


@dataclass
class InsertPlan:
    statement: q.Composed
    plain: q.Composed | None = None  # without ON CONFLICT, for rows that cannot clash with any
    # Over how many consecutive row numbers the rows' keys are all distinct (unique keys and
    # exclusion constraints): rows made from such a run cannot clash with one another.
    distinct_rows: float = 0

    def for_rows(self, existing: int, need: int) -> q.Composed:
        """The insert for `need` rows into a table holding `existing`: keys built from row numbers
        that cannot repeat over the numbers tried, in a table with no rows yet, cannot clash, so
        the insert needs no ON CONFLICT (the same rows, in the same order; should one clash all
        the same, the insert raises and the rest goes with ON CONFLICT)."""
        if self.plain is not None and existing == 0 and self.distinct_rows >= attempts(need):
            return self.plain
        return self.statement

    @classmethod
    def build(cls, seeder: Seeder, table: Table) -> InsertPlan:
        hints = column_hints(table)
        expressions: dict[str, str] = {}
        runs: dict[str, float] = {}  # column -> distinct_run of its values
        fk_steps: dict[str, tuple[int, int]] = {}  # foreign-key column -> (radix, parent keys)
        joins: list[str] = []
        foreign = {c for fk in table.foreign_keys for c in fk.columns}
        for column in table.columns:
            if column.identity or (column.default and "nextval(" in column.default):
                runs[column.name] = ENDLESS
            if column.filled_by_server or column.name in foreign:
                continue
            value = column_value(table, column, hints.get(column.name))
            if value is None:
                if column.default is not None or not column.not_null:
                    continue  # the default, or NULL
                raise SeedError(f"no generator for column {column.name} of type {column.type_sql}")
            expressions[column.name] = value
            runs[column.name] = column_run(table, column, hints.get(column.name))
        radix, radix_number = "1", 1
        for fk in table.foreign_keys:
            nullable = all(not (table.column(c) and table.column(c).not_null) for c in fk.columns)
            if fk.parent_oid == table.oid:
                # A row may point at itself: its own key is in the table once the statement ends.
                if nullable or not all(p in expressions for p in fk.parent_columns):
                    if not nullable:
                        raise SeedError(f"foreign key ({', '.join(fk.columns)}) points at columns the server fills")
                    continue
                for child, parent in zip(fk.columns, fk.parent_columns):
                    expressions.setdefault(child, expressions[parent])
                    runs.setdefault(child, runs.get(parent, 0))
                continue
            keys, count = seeder.parent_keys(fk.parent_oid, fk.parent_columns)
            if count == 0:
                if nullable:
                    continue
                raise SeedError(f"foreign key ({', '.join(fk.columns)}) is NOT NULL and its parent table has no rows")
            alias = f"k{len(joins) + 1}"
            joins.append(f"JOIN {q.Identifier(keys).as_string(None)} AS {alias} "
                         f"ON {alias}.rn = ((g / {radix}) % {count}) + 1")
            for child in fk.columns:
                if child not in expressions:
                    fk_steps.setdefault(child, (radix_number, count))
            if fk_unique(table, fk):
                radix, radix_number = f"({radix} * {count})", radix_number * count
            for child, parent in zip(fk.columns, fk.parent_columns):
                expressions.setdefault(child, f"{alias}.{q.Identifier(parent).as_string(None)}")
        distinct = distinct_rows(table, runs, fk_steps)
        if not expressions:
            return cls(q.SQL(
                "INSERT INTO {} SELECT FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS g"
            ).format(q.Identifier(table.schema, table.name)), None, distinct)
        names = list(expressions)
        # Typed inside, so CHECK filters compare like with like; a domain only outside, after the
        # filters have dropped the values it would refuse.
        select = ", ".join(f"({expressions[n]})::{table.column(n).base_sql} AS {ident(n)}" for n in names)
        outer = ", ".join(f"{ident(n)}::{table.column(n).type_sql}" for n in names)
        filters = row_filters(table, set(names))
        statement = (
            f"INSERT INTO {ident(table.schema)}.{ident(table.name)} ({', '.join(ident(n) for n in names)}) "
            f"SELECT {outer} FROM ("
            f"SELECT {select} FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS g {' '.join(joins)}"
            f") AS seed"
        )
        if filters:
            statement += " WHERE " + " AND ".join(filters)
        plain = q.SQL(with_placeholders(statement))
        if not table.has_unique_index:
            return cls(plain, plain, distinct)
        return cls(q.SQL(with_placeholders(statement + " ON CONFLICT DO NOTHING")), plain, distinct)


def with_placeholders(statement: str) -> str:
    """The statement for psycopg: its own % doubled, but for the row-number parameters."""
    return statement.replace("%", "%%").replace("%%(low)s", "%(low)s").replace("%%(high)s", "%(high)s")


def column_run(table: Table, column: Column, hint: Hint | None) -> float:
    """distinct_run of column_value's values (a partition key's cycle through the bounds: 0)."""
    part = table.partitioning
    if part is not None and part.key == [column.attnum] and part.strategy in ("r", "l"):
        if partition_value(part.bounds, column) is not None:
            return 0
    return distinct_run(column, hint, any(column.name in key for key in table.unique_keys))


def column_value(table: Table, column: Column, hint: Hint | None) -> str | None:
    unique = any(column.name in key for key in table.unique_keys)
    part = table.partitioning
    if part is not None and part.key == [column.attnum] and part.strategy in ("r", "l"):
        value = partition_value(part.bounds, column)
        if value is not None:
            return value
    return value_sql(column, hint, unique)


RANGE_BOUND = re.compile(r"^FOR VALUES FROM \((.+)\) TO \((.+)\)$", re.S)
LIST_BOUND = re.compile(r"^FOR VALUES IN \((.+)\)$", re.S)


def partition_value(bounds: list[str], column: Column) -> str | None:
    """A value inside one of the partitions, cycling through them."""
    choices = []
    for bound in bounds:
        found = RANGE_BOUND.match(bound)
        if found:
            low, high = found.groups()
            if low.upper() not in ("MINVALUE", "MAXVALUE"):
                choices.append(range_value(low, high, column))
            continue
        found = LIST_BOUND.match(bound)
        if found:
            items = [item.strip() for item in split_list(found.group(1)) if item.strip().upper() != "NULL"]
            choices.extend(f"{item}::{column.base_sql}" for item in items)
    if not choices:
        return None
    cases = " ".join(f"WHEN {i} THEN {choice}" for i, choice in enumerate(choices))
    return f"(CASE g % {len(choices)} {cases} END)"


def range_value(low: str, high: str, column: Column) -> str:
    """A value spread over [low, high) for the types where the step is obvious; else low itself."""
    lo, hi = f"({low})::{column.base_sql}", f"({high})::{column.base_sql}"
    if column.base == "date" and high.upper() != "MAXVALUE":
        return f"({lo} + (g % greatest({hi} - {lo}, 1))::int)"
    if column.base in ("timestamp", "timestamptz") and high.upper() != "MAXVALUE":
        return f"({lo} + (g % greatest(extract(epoch FROM {hi} - {lo})::bigint, 1)) * interval '1 second')"
    if column.base in ("int2", "int4", "int8") and high.upper() != "MAXVALUE":
        return f"({lo} + (g % greatest({hi} - {lo}, 1)))::{column.base_sql}"
    return lo


def split_list(text: str) -> list[str]:
    """Split "'a', 'b,c', 3" on the commas outside quotes."""
    items, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def column_hints(table: Table) -> dict[str, Hint]:
    hints: dict[str, Hint] = {}
    for expression, _ in table.checks:
        for column, hint in check_hints(expression).items():
            hints.setdefault(column, Hint()).merge(hint)
    for column in table.columns:
        for check in column.domain_checks:
            expression = domain_expression(check, column.name)
            if expression:
                for name, hint in check_hints(expression).items():
                    hints.setdefault(name, Hint()).merge(hint)
    return hints


def domain_expression(check: str, column: str) -> str | None:
    found = re.match(r"^CHECK \((.*)\)( NOT VALID)?$", check.strip(), re.S)
    return re.sub(r"\bVALUE\b", ident(column), found.group(1)) if found else None


def row_filters(table: Table, generated: set[str]) -> list[str]:
    """WHERE conditions that drop rows a CHECK, a domain or the partitioning would refuse."""
    filters = []
    for expression, columns in table.checks:
        if set(columns) <= generated:
            filters.append(f"({expression}) IS NOT FALSE")
    for column in table.columns:
        if column.name in generated:
            for check in column.domain_checks:
                expression = domain_expression(check, column.name)
                if expression:
                    filters.append(f"({expression}) IS NOT FALSE")
    part = table.partitioning
    if part is not None and not part.has_default and part.leaf_constraints:
        key_names = {c.name for c in table.columns if c.attnum in part.key}
        if 0 not in part.key and key_names <= generated:
            filters.append("(" + " OR ".join(f"({c})" for c in part.leaf_constraints) + ")")
    return filters


def fk_unique(table: Table, fk) -> bool:
    """Is this foreign key part of a unique key made only of foreign-key columns?"""
    foreign = {c for f in table.foreign_keys for c in f.columns}
    return any(set(fk.columns) <= set(key) and set(key) <= foreign for key in table.unique_keys if key)


def implied_foreign_keys(table: Table, tables: dict[int, Table]) -> list[ForeignKey]:
    """`customer_id` beside a table `customers` keyed by one integer: values taken from its keys.

    Migrations often add the foreign key later (NOT VALID, then VALIDATE); with made-up values
    that step would fail on the replay where it succeeds in production.
    """
    declared = {c for fk in table.foreign_keys for c in fk.columns}
    by_name = {(t.schema, t.name): t for t in tables.values()}
    implied = []
    for column in table.columns:
        if column.name in declared or column.filled_by_server or not column.name.endswith("_id"):
            continue
        if column.base not in ("int2", "int4", "int8"):
            continue
        stem = column.name[:-3]
        for name in (f"{stem}s", f"{stem}es", f"{stem[:-1]}ies" if stem.endswith("y") else None, stem):
            parent = by_name.get((table.schema, name)) if name else None
            if parent is None or parent.oid == table.oid:
                continue
            keys = [k for k in parent.unique_keys if len(k) == 1]
            key = next((k[0] for k in keys if (parent.column(k[0]) or column).base in ("int2", "int4", "int8")), None)
            if key is not None:
                implied.append(ForeignKey([column.name], parent.oid, [key]))
                break
    return implied


def with_parents(chosen: list[Table], tables: dict[int, Table], seeded: set[int]) -> list[Table]:
    """`chosen` and, transitively, the unseeded tables their foreign keys point at."""
    out = {t.oid: t for t in chosen}
    stack = list(chosen)
    while stack:
        for fk in stack.pop().foreign_keys:
            parent = tables.get(fk.parent_oid)
            if parent is not None and parent.oid not in out and parent.oid not in seeded:
                out[parent.oid] = parent
                stack.append(parent)
    return list(out.values())


def parents_first(tables: list[Table]) -> list[Table]:
    by_oid = {t.oid: t for t in tables}
    ordered: list[Table] = []
    state: dict[int, str] = {}

    def visit(table: Table) -> None:
        if state.get(table.oid) == "done" or state.get(table.oid) == "visiting":
            return  # a cycle: its nullable keys stay NULL
        state[table.oid] = "visiting"
        for fk in table.foreign_keys:
            parent = by_oid.get(fk.parent_oid)
            if parent is not None and parent.oid != table.oid:
                visit(parent)
        state[table.oid] = "done"
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def ident(name: str) -> str:
    return q.Identifier(name).as_string(None)

