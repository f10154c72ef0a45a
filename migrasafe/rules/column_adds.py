"""The ADD COLUMN subcommands of an ALTER TABLE, each judged on its own column.

One statement often adds several columns (Prisma writes every new column of a table into one
ALTER TABLE): a rule about a column reads that column's definition, names it, and points at it.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..locks.foreign_keys import validates_column_key
from ..plan.sql import ident, qualified
from .base import Context, edited, expression, keyword_span, render


def added_columns(ctx: Context, note: str | None = None) -> list[ast.AlterTableCmd]:
    """The statement's ADD COLUMN subcommands; with `note`, those whose column the lock model
    lists under it (volatile_default_columns, not_null_without_default_columns)."""
    cmds = [c for c in ctx.node.cmds or () if c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)]
    if note is None:
        return cmds
    named = set(ctx.impact.notes.get(note) or ())
    return [c for c in cmds if c.def_.colname in named]


def column_span(ctx: Context, cmd: ast.AlterTableCmd, word: str) -> tuple[int, int] | None:
    """Where `word` first occurs in this column's definition (the column's name when it does not)."""
    sql = ctx.statement.sql
    start = cmd.def_.location
    if start is None or start < 0:
        return ctx.span_of(word)
    later = [c.def_.location for c in ctx.node.cmds or ()
             if getattr(c.def_, "location", None) is not None and c.def_.location > start]
    end = min(later) if later else len(sql)
    span = keyword_span(sql[start:end], word)
    if span is None:
        return start, start + len(cmd.def_.colname)
    return start + span[0], start + span[1]


def column_constraints(cmd: ast.AlterTableCmd, contype) -> list[ast.Constraint]:
    return [c for c in cmd.def_.constraints or () if c.contype == contype]


def default_of(cmd: ast.AlterTableCmd):
    return next((c.raw_expr for c in column_constraints(cmd, CT.CONSTR_DEFAULT)), None)


def validated_keys(ctx: Context) -> list[tuple[ast.AlterTableCmd, ast.Constraint]]:
    """The REFERENCES written inside ADD COLUMN that PostgreSQL checks against every row."""
    cmds = added_columns(ctx)
    any_default = any(column_constraints(c, CT.CONSTR_DEFAULT) for c in cmds)
    return [(cmd, con) for cmd in cmds for con in column_constraints(cmd, CT.CONSTR_FOREIGN)
            if validates_column_key(cmd.def_, any_default, ctx.pg_version)]


def column_checks(ctx: Context) -> list[tuple[ast.AlterTableCmd, ast.Constraint]]:
    """CHECKs written inside ADD COLUMN: evaluated on every row, NULL or default, and a column
    constraint cannot be NOT VALID."""
    return [(cmd, con) for cmd in added_columns(ctx) for con in column_constraints(cmd, CT.CONSTR_CHECK)]


def split_constraint_fix(ctx: Context, table: str, cmd: ast.AlterTableCmd, con: ast.Constraint, later: str) -> str:
    """The statement with the constraint taken out of the column, then the constraint added
    NOT VALID on the table, then validated in a later transaction."""
    column = cmd.def_.colname
    kept = tuple(c for c in cmd.def_.constraints or () if c is not con)
    bare = edited(cmd, def_=edited(cmd.def_, constraints=kept or None))
    add_column = render(edited(ctx.node, cmds=tuple(bare if c is cmd else c for c in ctx.node.cmds)))
    suffix = "fkey" if con.contype == CT.CONSTR_FOREIGN else "check"
    name = ident(con.conname or f"{table.split('.')[-1]}_{column}_{suffix}")
    changes = dict(skip_validation=True, initially_valid=False, conname=None)
    if con.contype == CT.CONSTR_FOREIGN:
        changes["fk_attrs"] = (ast.String(sval=column),)
    constraint = expression(edited(con, **changes))
    quoted = qualified(table)
    return (f"{add_column}\nALTER TABLE {quoted} ADD CONSTRAINT {name} {constraint};\n"
            f"-- then, {later}:\nALTER TABLE {quoted} VALIDATE CONSTRAINT {name};")
