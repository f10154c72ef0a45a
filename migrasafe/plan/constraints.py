"""Plans that add a constraint or an index to a live table without a long lock."""
from __future__ import annotations

from ..catalog.state import Relation
from . import blocks
from .errors import PlanError
from .expressions import check_columns, column_refs, parse_expression
from .schema import Project
from .sql import NAME_LIMIT, ident, object_name, qualified, table_part
from .steps import Plan, Settings, Step

ON_DELETE = {"no-action": "a", "restrict": "r", "cascade": "c", "set-null": "n", "set-default": "d"}


def _columns(project: Project, target: str) -> tuple[Relation, tuple[str, ...]]:
    """TABLE.COL or TABLE.COL1,COL2 → the table and its columns, each checked."""
    table_ref, dot, names = target.rpartition(".")
    if not dot or not table_ref or not names:
        raise PlanError(f"expected TABLE.COLUMN or TABLE.COLUMN1,COLUMN2 (schema optional), not {target!r}")
    table = project.table(table_ref)
    columns = tuple(c.strip() for c in names.split(","))
    if not all(columns):
        raise PlanError(f"empty column name in {target!r}")
    if len(set(columns)) != len(columns):
        raise PlanError(f"a column is named twice in {target!r}")
    for column in columns:
        project.column(table, column)
    return table, columns


def _free_name(project: Project, table: Relation, name: str | None, default: str) -> str:
    chosen = name or object_name(default)
    if len(chosen.encode()) > NAME_LIMIT:
        raise PlanError(f"{chosen!r} is longer than PostgreSQL's {NAME_LIMIT}-byte limit for names")
    schema = table.name.split(".")[0]
    if chosen in table.constraints or f"{schema}.{chosen}" in project.catalog.indexes:
        raise PlanError(f"{chosen} already exists on {table.name}; choose another with --name")
    if f"{schema}.{chosen}" in project.catalog.relations:
        raise PlanError(f"a relation named {schema}.{chosen} already exists; choose another name with --name")
    return chosen


def _has_leading_index(project: Project, table: Relation, columns: tuple[str, ...]) -> bool:
    for name in table.indexes:
        index = project.catalog.indexes.get(name)
        if index and index.valid and not index.partial and index.columns[: len(columns)] == columns:
            return True
    return False


def add_foreign_key(project: Project, target: str, referenced: str, settings: Settings,
                    name: str | None = None, on_delete: str | None = None) -> Plan:
    table, columns = _columns(project, target)
    ref_table, ref_columns = _referenced(project, referenced)
    if ref_columns and len(ref_columns) != len(columns):
        raise PlanError(f"{len(columns)} column(s) cannot reference {len(ref_columns)} column(s)")
    key = _unique_key(project, ref_table, ref_columns, len(columns))
    base = table_part(table.name)
    constraint = _free_name(project, table, name, f"{base}_{'_'.join(columns)}_fkey")
    cols = ", ".join(ident(c) for c in columns)
    refs = ", ".join(ident(c) for c in key)
    action = ""
    if on_delete is not None:
        if on_delete not in ON_DELETE:
            raise PlanError(f"--on-delete must be one of {', '.join(ON_DELETE)}")
        action = " ON DELETE " + on_delete.replace("-", " ").upper()
    tname = qualified(table.name)
    steps = []
    if not _has_leading_index(project, table, columns):
        index = _free_name(project, table, None, f"{base}_{'_'.join(columns)}_idx")
        steps.append(blocks.index_step(
            table, index, f"({cols})", unique=False,
            title=f"index {table.name} ({', '.join(columns)}) for the foreign key", slug=f"index_{index}"))
        steps[-1].notes.append("Without it, every DELETE or key UPDATE on the referenced table scans "
                               f"{table.name} to find referencing rows.")
    orphan_query = (f"SELECT {cols} FROM {tname} AS child WHERE "
                    + " AND ".join(f"child.{ident(c)} IS NOT NULL" for c in columns)
                    + f" AND NOT EXISTS (SELECT 1 FROM {qualified(ref_table.name)} AS parent WHERE "
                    + " AND ".join(f"parent.{ident(k)} = child.{ident(c)}" for c, k in zip(columns, key))
                    + ") LIMIT 10;")
    steps.append(Step(
        kind="expand", title=f"add the foreign key {constraint}, NOT VALID", slug=f"add_{constraint}",
        statements=[f"ALTER TABLE {tname} ADD CONSTRAINT {ident(constraint)} FOREIGN KEY ({cols}) "
                    f"REFERENCES {qualified(ref_table.name)} ({refs}){action} NOT VALID"],
        requires=f"never writes a {', '.join(columns)} value missing from {ref_table.name} "
                 f"(such writes fail from this step on)",
        down=[f"ALTER TABLE {tname} DROP CONSTRAINT IF EXISTS {ident(constraint)}"],
        notes=["NOT VALID: existing rows are not checked here, so the lock on both tables lasts only the "
               "catalog change."]))
    steps.append(Step(
        kind="validate", title=f"validate the foreign key {constraint}", slug=f"validate_{constraint}",
        statements=[f"ALTER TABLE {tname} VALIDATE CONSTRAINT {ident(constraint)}"], down=[],
        notes=[f"VALIDATE scans {table.name} under ShareUpdateExclusiveLock (RowShareLock on "
               f"{ref_table.name}): reads and writes continue.",
               f"Rows without a match make it fail; find them with {orphan_query}"]))
    return Plan("add-foreign-key", f"add a foreign key from {table.name} ({', '.join(columns)}) to "
                                   f"{ref_table.name} ({', '.join(key)})", steps)


def _referenced(project: Project, referenced: str) -> tuple[Relation, tuple[str, ...]]:
    """REF_TABLE (its primary key) or REF_TABLE.COL[,COL]."""
    direct = project.catalog.get(project.catalog.qualify(*_split_qualified(referenced)))
    if direct is not None:
        return project.table(referenced), ()
    if "." in referenced:
        table, columns = _columns(project, referenced)
        return table, columns
    return project.table(referenced), ()


def _split_qualified(name: str) -> tuple[str | None, str]:
    schema, _, rel = name.rpartition(".")
    return (schema or None), rel


def _unique_key(project: Project, table: Relation, columns: tuple[str, ...], count: int) -> tuple[str, ...]:
    keys = [c.columns for c in table.constraints.values() if c.kind in ("p", "u") and c.columns]
    keys += [i.columns for i in (project.catalog.indexes.get(n) for n in table.indexes)
             if i and i.unique and not i.partial and "(expr)" not in i.columns]
    if not columns:
        primary = next((c.columns for c in table.constraints.values() if c.kind == "p"), None)
        if primary is None:
            raise PlanError(f"{table.name} has no primary key; name the referenced columns: {table.name}.COLUMN")
        if len(primary) != count:
            raise PlanError(f"the primary key of {table.name} has {len(primary)} column(s), the foreign key {count}")
        return primary
    if not any(set(k) == set(columns) for k in keys):
        raise PlanError(f"{table.name} ({', '.join(columns)}) has no primary key or unique constraint, which a "
                        f"foreign key needs (add-unique first)")
    return columns


def add_unique(project: Project, target: str, settings: Settings, name: str | None = None) -> Plan:
    table, columns = _columns(project, target)
    base = table_part(table.name)
    constraint = _free_name(project, table, name, f"{base}_{'_'.join(columns)}_key")
    cols = ", ".join(ident(c) for c in columns)
    tname = qualified(table.name)
    duplicates = f"SELECT {cols}, count(*) FROM {tname} GROUP BY {cols} HAVING count(*) > 1 LIMIT 10;"
    index = blocks.index_step(table, constraint, f"({cols})", unique=True,
                              title=f"build the unique index {constraint}", slug=f"index_{constraint}")
    index.requires = f"never writes a duplicate ({', '.join(columns)}) (such writes fail once the build starts)"
    index.notes.append(f"Find duplicates with {duplicates}")
    steps = [index, Step(
        kind="expand", title=f"make {constraint} a UNIQUE constraint using the index", slug=f"add_{constraint}",
        statements=[f"ALTER TABLE {tname} ADD CONSTRAINT {ident(constraint)} UNIQUE USING INDEX {ident(constraint)}"],
        down=[f"ALTER TABLE {tname} DROP CONSTRAINT IF EXISTS {ident(constraint)}"],
        notes=["USING INDEX adopts the built index: a catalog change, no scan."])]
    return Plan("add-unique", f"add UNIQUE ({', '.join(columns)}) to {table.name}", steps)


def add_check(project: Project, table_ref: str, expression: str, settings: Settings,
              name: str | None = None) -> Plan:
    table = project.table(table_ref)
    node = parse_expression(expression, "the CHECK expression")
    check_columns(node, table.columns, "the CHECK expression", table.name)
    base = table_part(table.name)
    first = sorted(column_refs(node))[:1]
    constraint = _free_name(project, table, name, f"{base}_{'_'.join(first)}_check")
    tname = qualified(table.name)
    steps = [Step(
        kind="expand", title=f"add the CHECK constraint {constraint}, NOT VALID", slug=f"add_{constraint}",
        statements=[f"ALTER TABLE {tname} ADD CONSTRAINT {ident(constraint)} CHECK ({expression}) NOT VALID"],
        requires=f"writes only rows where {expression} holds (others fail from this step on)",
        down=[f"ALTER TABLE {tname} DROP CONSTRAINT IF EXISTS {ident(constraint)}"],
        notes=["NOT VALID: existing rows are not checked here; the lock lasts only the catalog change."]),
        Step(kind="validate", title=f"validate the CHECK constraint {constraint}", slug=f"validate_{constraint}",
             statements=[f"ALTER TABLE {tname} VALIDATE CONSTRAINT {ident(constraint)}"], down=[],
             notes=["VALIDATE scans under ShareUpdateExclusiveLock: reads and writes continue.",
                    f"Rows that violate it make it fail; find them with "
                    f"SELECT * FROM {tname} WHERE NOT ({expression}) LIMIT 10;"])]
    return Plan("add-check", f"add CHECK ({expression}) to {table.name}", steps)


def add_index(project: Project, target: str, settings: Settings, name: str | None = None,
              unique: bool = False) -> Plan:
    table, columns = _columns(project, target)
    base = table_part(table.name)
    index = _free_name(project, table, name, f"{base}_{'_'.join(columns)}_{'key' if unique else 'idx'}")
    step = blocks.index_step(table, index, "(" + ", ".join(ident(c) for c in columns) + ")", unique=unique,
                             title=f"build the {'unique ' if unique else ''}index {index}", slug=f"index_{index}")
    return Plan("add-index", f"add {'a unique' if unique else 'an'} index on {table.name} ({', '.join(columns)})",
                [step])
