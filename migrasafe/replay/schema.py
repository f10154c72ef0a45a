"""The tables of a database as the seeder needs them, read from its catalog.

Reading the real catalog (rather than migrasafe's own schema model) means whatever the earlier
migrations did — extensions, domains, partitions, generated columns — is what gets seeded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

TABLES_SQL = r"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname
"""

COLUMNS_SQL = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid),
       coalesce(bt.typname, t.typname), format_type(coalesce(bt.oid, t.oid), coalesce(bt.typtypmod, a.atttypmod)),
       coalesce(bt.typcategory, t.typcategory)::text, et.typname,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
        WHERE e.enumtypid = coalesce(bt.oid, t.oid)),
       CASE WHEN t.typtype = 'd' THEN
           (SELECT array_agg(pg_get_constraintdef(k.oid)) FROM pg_constraint k
            WHERE k.contypid = t.oid AND k.contype = 'c')
       END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_type et ON et.oid = coalesce(bt.typelem, t.typelem) AND coalesce(bt.typcategory, t.typcategory) = 'A'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS_SQL = """
SELECT conrelid, contype::text, conkey::int[], confrelid, confkey::int[], pg_get_expr(conbin, conrelid)
FROM pg_constraint
WHERE conrelid = ANY(%s) AND contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY conrelid, conname
"""

UNIQUE_INDEXES_SQL = """
SELECT indrelid, indkey::int[], indexprs IS NOT NULL FROM pg_index WHERE indisunique AND indrelid = ANY(%s)
"""

PARTITION_KEYS_SQL = """
SELECT partrelid, partstrat::text, partattrs::int[] FROM pg_partitioned_table WHERE partrelid = ANY(%s)
"""

PARTITIONS_SQL = """
SELECT t.relid, t.isleaf, t.level, pg_get_expr(c.relpartbound, c.oid), pg_get_partition_constraintdef(c.oid)
FROM pg_partition_tree(%s) t JOIN pg_class c ON c.oid = t.relid
WHERE t.level > 0
"""


@dataclass
class Column:
    attnum: int
    name: str
    type_sql: str  # format_type, "character varying(50)"
    not_null: bool
    base: str  # the base type's typname (a domain's base type), "varchar"
    base_sql: str  # format_type of the base type with the column's modifier
    category: str  # pg_type.typcategory of the base type
    element: str | None  # typname of an array's element type
    enum_labels: list[str] | None
    domain_checks: list[str]  # "CHECK ((VALUE > 0))"
    default: str | None
    identity: str
    generated: str

    @property
    def filled_by_server(self) -> bool:
        """Values the server assigns itself: identity, generated and sequence-default columns."""
        if self.identity or self.generated:
            return True
        return bool(self.default) and "nextval(" in self.default

    @property
    def length(self) -> int | None:
        found = re.search(r"\((\d+)\)", self.base_sql)
        return int(found.group(1)) if found and self.base in ("varchar", "bpchar", "bit", "varbit") else None

    @property
    def numeric_limits(self) -> tuple[int, int] | None:
        found = re.search(r"numeric\((\d+)(?:,(-?\d+))?\)", self.base_sql)
        return (int(found.group(1)), int(found.group(2) or 0)) if found else None


@dataclass
class ForeignKey:
    columns: list[str]
    parent_oid: int
    parent_columns: list[str]


@dataclass
class Partitioning:
    strategy: str  # "r" range, "l" list, "h" hash
    key: list[int]  # attnums; 0 for an expression
    # Direct partitions' bounds ("FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')").
    bounds: list[str] = field(default_factory=list)
    # pg_get_partition_constraintdef of each leaf; a row fits the table when it satisfies one.
    leaf_constraints: list[str] = field(default_factory=list)
    has_default: bool = False


@dataclass
class Table:
    oid: int
    schema: str
    name: str
    kind: str  # "r" or "p"
    columns: list[Column] = field(default_factory=list)
    unique_keys: list[list[str]] = field(default_factory=list)  # column names; [] for expression indexes
    has_unique_index: bool = False
    has_exclusion: bool = False
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[tuple[str, list[str]]] = field(default_factory=list)  # (expression, columns it reads)
    partitioning: Partitioning | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def unique_alone(self, name: str) -> bool:
        return [name] in self.unique_keys


def read_tables(conn) -> dict[int, Table]:
    tables = {oid: Table(oid, schema, name, kind) for oid, schema, name, kind in conn.execute(TABLES_SQL)}
    if not tables:
        return tables
    oids = list(tables)
    names: dict[tuple[int, int], str] = {}
    for (relid, attnum, name, type_sql, not_null, identity, generated, default, base, base_sql, category,
         element, labels, domain_checks) in conn.execute(COLUMNS_SQL, [oids]):
        tables[relid].columns.append(Column(
            attnum, name, type_sql, not_null, base, base_sql, category, element, labels,
            domain_checks or [], default, identity or "", generated or "",
        ))
        names[(relid, attnum)] = name
    # Parents of foreign keys may be partitions or tables outside this list: look their columns up.
    for relid, contype, conkey, confrelid, confkey, expression in conn.execute(CONSTRAINTS_SQL, [oids]):
        table = tables[relid]
        columns = [names.get((relid, n), "") for n in conkey or []]
        if contype in ("p", "u"):
            table.unique_keys.append(columns)
            table.has_unique_index = True
        elif contype == "x":
            table.has_unique_index = True  # ON CONFLICT DO NOTHING skips exclusion conflicts too
            table.has_exclusion = True
        elif contype == "f":
            parent_columns = [attname(conn, confrelid, n, names) for n in confkey]
            table.foreign_keys.append(ForeignKey(columns, confrelid, parent_columns))
        elif contype == "c" and expression:
            table.checks.append((expression, columns))
    for relid, indkey, has_expressions in conn.execute(UNIQUE_INDEXES_SQL, [oids]):
        table = tables[relid]
        table.has_unique_index = True
        key = [] if has_expressions or 0 in indkey else [names.get((relid, n), "") for n in indkey]
        if key not in table.unique_keys:
            table.unique_keys.append(key)
    for relid, strategy, key in conn.execute(PARTITION_KEYS_SQL, [oids]):
        table = tables[relid]
        part = Partitioning(strategy, list(key))
        for _, is_leaf, level, bound, constraint in conn.execute(PARTITIONS_SQL, [relid]):
            if bound == "DEFAULT":
                part.has_default = True
            if level == 1 and bound:
                part.bounds.append(bound)
            if is_leaf and constraint:
                part.leaf_constraints.append(constraint)
        table.partitioning = part
    return tables


def attname(conn, relid: int, attnum: int, known: dict[tuple[int, int], str]) -> str:
    if (relid, attnum) not in known:
        row = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum = %s",
                           [relid, attnum]).fetchone()
        known[(relid, attnum)] = row[0] if row else ""
    return known[(relid, attnum)]
