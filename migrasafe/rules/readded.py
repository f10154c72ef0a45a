"""A column dropped and added again under its name (MS042): the running code keeps finding the
column, so what it meets is what the ADD leaves in it, and whether the values were put somewhere
first."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..catalog.names import type_spec
from ..catalog.tables import user_type
from ..plan.expressions import column_refs
from ..plan.sql import ident, qualified, type_sql
from .base import Context, Hit
from .later import names_table


def added_again(ctx: Context, table: str, drop) -> tuple | None:
    """The ADD COLUMN of the same name that follows this DROP COLUMN, in the statement or later in
    the migration, with where it is: (its ColumnDef, "in the same statement" | "on line N")."""
    cmds = list(ctx.node.cmds or ())
    for cmd in cmds[cmds.index(drop) + 1:]:
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef) and cmd.def_.colname == drop.name:
            return cmd.def_, "in the same statement"
    for later in _after(ctx):
        node = later.node
        if not isinstance(node, ast.AlterTableStmt) or not names_table(ctx, node, table):
            continue
        for cmd in node.cmds or ():
            if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef) \
                    and cmd.def_.colname == drop.name:
                return cmd.def_, f"on line {later.line}"
            if cmd.subtype == AT.AT_DropColumn and cmd.name == drop.name:
                return None  # dropped again before any ADD: the later DROP is its own finding
    return None


def dropped_and_added(ctx: Context, table: str, rel, column: str, coldef: ast.ColumnDef, where: str) -> Hit | None:
    old_col = rel.columns.get(column) if rel is not None else None
    old = old_col.type if old_col is not None else None
    new = type_spec(coldef.typeName, user_type(ctx.catalog)) if coldef.typeName is not None else None
    constraints = coldef.constraints or ()
    if any(c.contype == CT.CONSTR_GENERATED for c in constraints):
        return _made_generated(table, old_col, column, where, ctx)
    defaulted = any(c.contype == CT.CONSTR_DEFAULT for c in constraints)
    not_null = coldef.is_not_null or any(c.contype == CT.CONSTR_NOTNULL for c in constraints)
    left = ("every existing row is left with the new column's default" if defaulted
            # No row can hold NULL there: the ADD itself fails once the table has rows.
            else "the new column is NOT NULL without a default, so the statement fails on a table with rows "
                 "(MS026)" if not_null else "every existing row is left with NULL")
    retyped = old is not None and new is not None and old != new
    if retyped:
        change = (f", and its type changes from {old} to {new} under the running code, which still reads and "
                  f"writes {column}")
        keep = (f"ALTER TABLE {qualified(table)} ALTER COLUMN {ident(column)} TYPE {type_sql(new)} "
                f"USING <expr>;  -- <expr>: {ident(column)} converted; keeps the values\n"
                f"-- or expand-contract: ADD COLUMN {ident(column + '_new')} {type_sql(new)}; backfill it from "
                f"{ident(column)} in batches; "
                f"switch the code; drop {column} in a later migration")
    else:
        change = f" (the type stays {old})" if old is not None else ""
        keep = (f"-- leave {column} in place to keep its values; to clear them on purpose, "
                f"UPDATE {qualified(table)} SET {ident(column)} = NULL in batches")
    saved = None if not_null and not defaulted else _copied_before(ctx, table, column)
    if saved is not None:
        # The values live on in another column, which the migration reads them back from: what the
        # running code meets is the column starting over, with a new type where it has one.
        other, line = saved
        if not retyped:
            keep = (f"-- expand-contract: add the new form of {column} under a new name, fill it from "
                    f"{ident(other)} in batches, switch the code, then drop {column} in a later migration")
        return Hit(f"dropping {table}.{column} and adding it again {where} replaces the column under the running "
                   f"code: its values were copied into {other} on line {line} first, so they are kept, but "
                   f"{column} holds {'the new default' if defaulted else 'NULL'} in every existing row until they "
                   f"are written back{change}",
                   fix=keep, relation=table, span=ctx.span_of("DROP"), severity="warning")
    return Hit(f"dropping {table}.{column} and adding it again {where} destroys every value stored in it: "
               f"{left}{change}",
               fix=keep, relation=table, span=ctx.span_of("DROP"), severity="error")


def _made_generated(table: str, old_col, column: str, where: str, ctx: Context) -> Hit | None:
    """Added again as a stored generated column, every row gets the expression's value (the ADD
    rewrites the table for it, MS012): nothing is emptied. A generated column given a new
    expression breaks nobody; a plain one made generated refuses the running code's writes."""
    if old_col is not None and old_col.generated:
        return None
    known = old_col is not None
    return Hit(f"dropping {table}.{column} and adding it again {where} as a generated column replaces the values "
               f"stored in it with the expression's, and {'' if known else 'any of '}the running code's INSERTs "
               f"and UPDATEs that write {column} start failing: a generated column cannot be written",
               fix=(f"-- keep {column} a plain column the running code can write; or expand-contract: add the "
                    f"generated column under a new name, switch the code to read it, then drop {column} in a later "
                    f"migration"),
               relation=table, span=ctx.span_of("DROP"), severity="error" if known else "warning")


def _copied_before(ctx: Context, table: str, column: str) -> tuple[str, int] | None:
    """An UPDATE of the table, earlier in the migration, that sets another column from this one:
    (that column, its line). The values then outlive the DROP."""
    for earlier in _before(ctx):
        node = earlier.node
        if not isinstance(node, ast.UpdateStmt) or not names_table(ctx, node, table):
            continue
        for target in node.targetList or ():
            if isinstance(target, ast.ResTarget) and target.name and target.name != column \
                    and target.val is not None and column in column_refs(target.val):
                return target.name, earlier.line
    return None


def _position(ctx: Context) -> int:
    statements = ctx.migration.statements
    return next((i for i, s in enumerate(statements) if s is ctx.statement), len(statements))


def _after(ctx: Context):
    return ctx.migration.statements[_position(ctx) + 1:]


def _before(ctx: Context):
    return reversed(ctx.migration.statements[:_position(ctx)])
