"""Statements that write a new copy of a live table while holding AccessExclusiveLock."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..catalog.tables import user_type
from ..catalog.names import collation_of, type_spec
from ..plan.sql import ident, qualified
from .base import Context, Hit, detects, expression
from .column_adds import added_columns, column_span
from .enum_swaps import add_value_fix, kept_labels
from .indexes import index_tablespace
from .later import later_index_on


def _rewritten(ctx: Context, table: str) -> bool:
    """The table, or (for a partitioned table, which has no storage) one of its partitions."""
    return any(r in ctx.impact.rewrites for r in ctx.catalog.inheritors(table))


def _alter_cmds(ctx: Context, *subtypes):
    table = ctx.altered_live_table()
    if table is None:
        return None, []
    return table, [c for c in ctx.node.cmds or () if c.subtype in subtypes]


@detects("MS010", ast.AlterTableStmt, subcommands=(AT.AT_AddColumn,))
def volatile_default_rewrite(ctx: Context):
    table, cmds = _alter_cmds(ctx, AT.AT_AddColumn)
    if not cmds or not ctx.impact.notes.get("volatile_default") or not _rewritten(ctx, table):
        return
    for cmd in added_columns(ctx, "volatile_default_columns"):
        col = cmd.def_.colname
        kind = expression(cmd.def_.typeName) if cmd.def_.typeName is not None else "<type>"
        default = next((expression(c.raw_expr) for c in cmd.def_.constraints or ()
                        if c.contype == CT.CONSTR_DEFAULT and c.raw_expr is not None), "<expr>")
        key, dropped = _batch_key(ctx, table)
        quoted, column = qualified(table), ident(col)
        bound = _bound(key)
        by = (f", by {dropped}, which this ALTER TABLE drops: keep it until the backfill is done, then drop it"
              if dropped else "")
        yield Hit(
            f"ADD COLUMN {col} with a volatile default rewrites live table {table}",
            fix=(f"ALTER TABLE {quoted} ADD COLUMN {column} {kind};  -- no default: metadata only\n"
                 f"ALTER TABLE {quoted} ALTER COLUMN {column} SET DEFAULT {default};  -- new rows only\n"
                 f"-- then backfill existing rows in batches, outside the DDL transaction{by}:\n"
                 f"UPDATE {quoted} SET {column} = {default} WHERE {bound} AND {column} IS NULL;"),
            relation=table, span=column_span(ctx, cmd, "DEFAULT"))


def _bound(key: tuple[str, ...]) -> str:
    """One batch of the key, as the backfill's WHERE; a row of columns for a key of several."""
    if len(key) == 1:
        return f"{ident(key[0])} BETWEEN :lo AND :hi"
    if key:
        return (f"({', '.join(ident(k) for k in key)}) BETWEEN ({', '.join(':lo_' + k for k in key)}) "
                f"AND ({', '.join(':hi_' + k for k in key)})")
    return "<key> BETWEEN :lo AND :hi"


def _batch_key(ctx: Context, table: str) -> tuple[tuple[str, ...], str | None]:
    """The key the fix's backfill walks, and the name of the constraint when it is one this same
    ALTER TABLE drops: the batches need it, so the fix has to keep it until they are done. A key
    that outlives the statement is preferred, the primary key first."""
    rel = ctx.catalog.get(table)
    if rel is None:
        return (), None
    dropped = {cmd.name for cmd in ctx.node.cmds or () if cmd.subtype == AT.AT_DropConstraint}
    keys = sorted(((name, c) for name, c in rel.constraints.items() if c.kind in ("p", "u") and c.columns),
                  key=lambda item: (item[0] in dropped, item[1].kind != "p"))
    if not keys:
        return (), None
    name, con = keys[0]
    return tuple(con.columns), (name if name in dropped else None)


@detects("MS011", ast.AlterTableStmt, subcommands=(AT.AT_AlterColumnType,))
def rewriting_type_change(ctx: Context):
    table, cmds = _alter_cmds(ctx, AT.AT_AlterColumnType)
    if not cmds:
        return
    if not _rewritten(ctx, table):
        yield from _indexes_rebuilt(ctx, table, cmds)
        return
    rel = ctx.catalog.get(table)
    for cmd in cmds:
        # The history may not show the column (a table older than it): then only the new type is named.
        old = f" from {rel.columns[cmd.name].type}" if rel and cmd.name in rel.columns else ""
        new = _new_type(cmd)
        in_key = rel is not None and any(c.kind == "p" and cmd.name in c.columns for c in rel.constraints.values())
        fix = (f"-- expand-contract: add a column of the new type, keep it in sync, backfill, switch\n"
               f"ALTER TABLE {qualified(table)} ADD COLUMN {ident(cmd.name + '_new')} {new};\n"
               f"-- trigger copying {cmd.name} into {cmd.name}_new on write; batched backfill; then swap names")
        labels = _kept_labels(ctx, rel, cmd)
        before = ctx.catalog.types[rel.columns[cmd.name].type.name].values if labels is not None else []
        if labels is not None and len(labels) > len(before):
            fix = add_value_fix(rel.columns[cmd.name].type, before, labels)
        elif in_key:
            fix += ("\n-- a primary key column: CREATE UNIQUE INDEX CONCURRENTLY on the new column before the swap,\n"
                    "-- then ADD CONSTRAINT ... PRIMARY KEY USING INDEX in it; re-point the foreign keys that\n"
                    "-- reference the key (NOT VALID, then VALIDATE) and its sequence's owner")
        yield Hit(f"changing {table}.{cmd.name}{old} to {new} rewrites the table and all its indexes"
                  + _keys_remade(ctx, table, cmd.name), fix=fix, relation=table, span=ctx.span_of("TYPE"))


def _indexes_rebuilt(ctx: Context, table: str, cmds):
    """A type change that keeps the rows but not the way an index of the column sorts (timestamp
    to timestamptz in UTC, varchar to citext, a new collation) builds the index again, reading the
    whole table under the ALTER's lock (locks/retype.py)."""
    rebuilt = ctx.impact.notes.get("rebuilt_indexes") or {}
    rel = ctx.catalog.get(table)
    for cmd in cmds:
        entry = rebuilt.get(cmd.name)
        if not entry or rel is None or cmd.name not in rel.columns:
            continue
        names = entry["indexes"]
        one = len(names) == 1
        built = (f"builds {'index' if one else 'indexes'} {', '.join(names)} again, reading all of live table "
                 f"{table} under AccessExclusiveLock: every query on {table} waits until "
                 f"{'it is' if one else 'they are'} built")
        if entry["for"] == "collation":
            old, new = rel.columns[cmd.name].collation, collation_of(cmd.def_)
            # Without COLLATE, ALTER COLUMN TYPE gives the column its type's default collation.
            collate = '"' + (new or "default").replace('"', '""') + '"'
            yield Hit(f"changing the collation of {table}.{cmd.name} from {_collation(old)} to {_collation(new)} "
                      f"rewrites no rows but {built}" + _keys_remade(ctx, table, cmd.name),
                      fix=(f"-- build the index with the new collation beside the old one, outside a transaction:\n"
                           f"-- CREATE INDEX CONCURRENTLY ... ({ident(cmd.name)} COLLATE {collate}, ...);\n"
                           f"-- switch the queries to COLLATE {collate} (or expand-contract: a new column with the "
                           f"collation, kept in sync, backfilled, swapped); then DROP INDEX CONCURRENTLY the old one"),
                      relation=table, span=ctx.span_of("TYPE"))
            continue
        new = _new_type(cmd)
        fix = ("-- the rows stay as they are: only the index is built again, under the lock.\n"
               "-- drop it first (DROP INDEX CONCURRENTLY), change the type, then build it again\n"
               "-- with CREATE INDEX CONCURRENTLY, each step in its own migration")
        if any(ctx.catalog.indexes[n].unique for n in names):
            fix = ("-- a unique index or key cannot be dropped while the application relies on it:\n"
                   "-- expand-contract instead: add a column of the new type, keep it in sync, backfill,\n"
                   "-- build its unique index CONCURRENTLY, then swap the columns")
        yield Hit(f"changing {table}.{cmd.name} from {rel.columns[cmd.name].type} to {new} keeps the table's rows "
                  f"but {built}" + _keys_remade(ctx, table, cmd.name), fix=fix, relation=table,
                  span=ctx.span_of("TYPE"))


def _new_type(cmd) -> str:
    """The type as written; a built-in type the grammar spells with its schema (pg_catalog.json)
    without it, as the old type is shown."""
    type_name = getattr(cmd.def_, "typeName", None)
    return expression(type_name).removeprefix("pg_catalog.") if type_name is not None else "<new type>"


def _collation(name: str | None) -> str:
    return "the default collation" if name is None else f'"{name}"'


def _keys_remade(ctx: Context, table: str, column: str) -> str:
    """The foreign keys through a retyped column are dropped and re-created: the table at their
    other end is locked too, and each key is checked again over every referencing row when its
    comparison changed (locks/foreign_keys.py, keys_on_column)."""
    rel = ctx.catalog.get(table)
    if rel is None:
        return ""
    pairs = [(table, con.references) for con in rel.constraints.values()
             if con.kind == "f" and con.references and column in con.columns]
    pairs += [(child.name, table) for child, con in rel.referencing(ctx.catalog)
              if column in (con.ref_columns or rel.primary_key)]
    locked = {l.relation for l in ctx.live_locks() if l.mode == "AccessExclusiveLock"}
    pairs = [(referencing, referenced) for referencing, referenced in dict.fromkeys(pairs)
             if referencing != referenced and ({referencing, referenced} - {table}) <= locked]
    if not pairs:
        return ""
    keys = [f"its foreign key to {b}" if a == table else f"the foreign key from {a}" for a, b in pairs]
    others = list(dict.fromkeys(t for pair in pairs for t in pair if t != table))
    text = (f"; {_names(keys)} {'is' if len(keys) == 1 else 'are'} dropped and re-created, so "
            f"{_names(others)} {'is' if len(others) == 1 else 'are'} locked too (AccessExclusiveLock: "
            "every query on it waits)")
    checked = [(a, b) for a, b in pairs if a in ctx.impact.scans or b in ctx.impact.scans]
    if checked:
        text += ", and " + "; ".join(f"every row of {a} is checked against {b} again" for a, b in checked)
    return text


def _names(tables: list[str]) -> str:
    return tables[0] if len(tables) == 1 else ", ".join(tables[:-1]) + " and " + tables[-1]


def _kept_labels(ctx: Context, rel, cmd) -> list[str] | None:
    if rel is None or cmd.name not in rel.columns or getattr(cmd.def_, "typeName", None) is None:
        return None
    return kept_labels(ctx.catalog, rel.columns[cmd.name].type, type_spec(cmd.def_.typeName, user_type(ctx.catalog)))


@detects("MS012", ast.AlterTableStmt, subcommands=(AT.AT_AddColumn,))
def rewriting_column_add(ctx: Context):
    table, cmds = _alter_cmds(ctx, AT.AT_AddColumn)
    notes = ctx.impact.notes
    what = ("a serial column" if notes.get("adds_serial") else "an identity column" if notes.get("adds_identity")
            else "a stored generated column" if notes.get("adds_stored_generated") else None)
    if not cmds or what is None or not _rewritten(ctx, table):
        return
    generated = [(cmd.def_, c.raw_expr) for cmd in cmds if isinstance(cmd.def_, ast.ColumnDef)
                 for c in cmd.def_.constraints or () if c.contype == CT.CONSTR_GENERATED and c.raw_expr is not None]
    if notes.get("adds_stored_generated") and generated:
        fix = _generated_fix(ctx, table, *generated[0])
    else:
        fix = ("-- add a plain nullable column, attach a sequence default (new rows),\n"
               "-- backfill existing rows in batches, then add the constraint NOT VALID and VALIDATE")
    yield Hit(f"adding {what} fills every existing row: live table {table} is rewritten",
              fix=fix, relation=table, span=ctx.span_of("ADD"))


def _generated_fix(ctx: Context, table: str, column: ast.ColumnDef, expr) -> str:
    """A generated column has no default to attach and no NOT NULL to validate: a plain column
    that a trigger keeps equal to the expression, the old rows backfilled. PostgreSQL 18's virtual
    column needs no rewrite at all, but cannot be indexed."""
    name, kind = ident(column.colname), expression(column.typeName) if column.typeName is not None else "<type>"
    quoted, value = qualified(table), expression(expr)
    bound = _bound(_batch_key(ctx, table)[0])
    fix = (f"ALTER TABLE {quoted} ADD COLUMN {name} {kind};  -- plain and nullable: metadata only\n"
           f"-- a BEFORE INSERT OR UPDATE trigger setting NEW.{name} to the expression over NEW's columns keeps "
           f"new and changed rows in step;\n"
           f"-- then, outside the DDL transaction, backfill the existing rows in batches:\n"
           f"UPDATE {quoted} SET {name} = {value} WHERE {bound} AND {name} IS DISTINCT FROM ({value});")
    if ctx.pg_version >= 18 and not later_index_on(ctx, table, column.colname):
        fix += (f"\n-- or, on PostgreSQL 18: ADD COLUMN {name} {kind} GENERATED ALWAYS AS ({value}) VIRTUAL, "
                f"computed on read (no rewrite; it cannot be indexed)")
    return fix


def _whole_table_rewrite(ctx: Context, subtypes, label: str, fix: str):
    table, cmds = _alter_cmds(ctx, *subtypes)
    if cmds and _rewritten(ctx, table):
        yield Hit(f"{label} rewrites live table {table} under AccessExclusiveLock", fix=fix, relation=table,
                  span=ctx.span_of("SET"))


@detects("MS013", ast.AlterTableStmt, subcommands=(AT.AT_SetTableSpace,))
def set_tablespace(ctx: Context):
    if ctx.impact.index_locks:  # ALTER INDEX, or ALTER TABLE naming an index
        yield from index_tablespace(ctx)
        return
    yield from _whole_table_rewrite(ctx, (AT.AT_SetTableSpace,), "SET TABLESPACE",
                                    "-- move data with pg_repack --tablespace, or create a copy and swap")


@detects("MS014", ast.AlterTableStmt, subcommands=(AT.AT_SetLogged, AT.AT_SetUnLogged))
def set_logged_unlogged(ctx: Context):
    yield from _whole_table_rewrite(ctx, (AT.AT_SetLogged, AT.AT_SetUnLogged), "SET LOGGED/UNLOGGED",
                                    "-- schedule it in a maintenance window; there is no online form")


@detects("MS015", ast.VacuumStmt)
def vacuum_full(ctx: Context):
    if isinstance(ctx.node, ast.VacuumStmt) and ctx.impact.notes.get("vacuum_full"):
        for table in ctx.impact.rewrites:
            if ctx.live(table):
                yield Hit(f"VACUUM FULL rewrites live table {table} under AccessExclusiveLock",
                          fix=f"VACUUM {qualified(table)};  -- or pg_repack to reclaim space online",
                          relation=table, span=ctx.span_of("FULL"))


@detects("MS016", ast.ClusterStmt)
def cluster(ctx: Context):
    if isinstance(ctx.node, ast.ClusterStmt):
        for table in ctx.impact.rewrites:
            if ctx.live(table):
                yield Hit(f"CLUSTER rewrites live table {table} under AccessExclusiveLock",
                          fix="-- pg_repack --order-by reorders a table online", relation=table,
                          span=ctx.span_of("CLUSTER"))
