"""Statements that write a new copy of a live table while holding AccessExclusiveLock."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..catalog.apply import _user_type
from ..catalog.names import type_spec
from ..plan.sql import ident, qualified
from .base import Context, Hit, detects, expression
from .column_adds import added_columns, column_span
from .enum_swaps import add_value_fix, kept_labels


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
        rel = ctx.catalog.get(table)
        keys = [c.columns for c in rel.constraints.values() if c.kind == "p"] if rel is not None else []
        pk = ident(keys[0][0]) if keys and len(keys[0]) == 1 else "<pk>"
        quoted, column = qualified(table), ident(col)
        yield Hit(
            f"ADD COLUMN {col} with a volatile default rewrites live table {table}",
            fix=(f"ALTER TABLE {quoted} ADD COLUMN {column} {kind};  -- no default: metadata only\n"
                 f"ALTER TABLE {quoted} ALTER COLUMN {column} SET DEFAULT {default};  -- new rows only\n"
                 f"-- then backfill existing rows in batches, outside the DDL transaction:\n"
                 f"UPDATE {quoted} SET {column} = {default} WHERE {pk} BETWEEN :lo AND :hi AND {column} IS NULL;"),
            relation=table, span=column_span(ctx, cmd, "DEFAULT"))


@detects("MS011", ast.AlterTableStmt, subcommands=(AT.AT_AlterColumnType,))
def rewriting_type_change(ctx: Context):
    table, cmds = _alter_cmds(ctx, AT.AT_AlterColumnType)
    if not cmds or not _rewritten(ctx, table):
        return
    rel = ctx.catalog.get(table)
    for cmd in cmds:
        old = rel.columns[cmd.name].type if rel and cmd.name in rel.columns else "its current type"
        type_name = getattr(cmd.def_, "typeName", None)
        new = expression(type_name) if type_name is not None else "<new type>"
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
        yield Hit(f"changing {table}.{cmd.name} from {old} to {new} rewrites the table and all its indexes",
                  fix=fix, relation=table, span=ctx.span_of("TYPE"))


def _kept_labels(ctx: Context, rel, cmd) -> list[str] | None:
    if rel is None or cmd.name not in rel.columns or getattr(cmd.def_, "typeName", None) is None:
        return None
    return kept_labels(ctx.catalog, rel.columns[cmd.name].type, type_spec(cmd.def_.typeName, _user_type(ctx.catalog)))


@detects("MS012", ast.AlterTableStmt, subcommands=(AT.AT_AddColumn,))
def rewriting_column_add(ctx: Context):
    table, cmds = _alter_cmds(ctx, AT.AT_AddColumn)
    notes = ctx.impact.notes
    what = ("a serial column" if notes.get("adds_serial") else "an identity column" if notes.get("adds_identity")
            else "a stored generated column" if notes.get("adds_stored_generated") else None)
    if not cmds or what is None or not _rewritten(ctx, table):
        return
    yield Hit(f"adding {what} fills every existing row: live table {table} is rewritten",
              fix=("-- add a plain nullable column, attach a sequence default (new rows),\n"
                   "-- backfill existing rows in batches, then add the constraint NOT VALID and VALIDATE"),
              relation=table, span=ctx.span_of("ADD"))


def _whole_table_rewrite(ctx: Context, subtypes, label: str, fix: str):
    table, cmds = _alter_cmds(ctx, *subtypes)
    if cmds and _rewritten(ctx, table):
        yield Hit(f"{label} rewrites live table {table} under AccessExclusiveLock", fix=fix, relation=table,
                  span=ctx.span_of("SET"))


@detects("MS013", ast.AlterTableStmt, subcommands=(AT.AT_SetTableSpace,))
def set_tablespace(ctx: Context):
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
