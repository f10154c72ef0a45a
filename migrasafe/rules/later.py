"""What the rest of a migration does to a table: a fix written for one statement has to leave the
statements after it working (a view created at a rename makes a later column type change fail; a
constant default makes a later primary key on the column fail)."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..doblocks import read_block
from .base import Context


def later_statements(ctx: Context):
    """The statements of the migration after the current one, with those a DO block runs in place
    of the block, in the order written."""
    statements = ctx.migration.statements
    at = next((i for i, s in enumerate(statements) if s is ctx.statement), None)
    if at is None:
        # A statement of a DO block: the ones after it in the file, by line.
        later = [s for s in statements if s.line > ctx.statement.line]
    else:
        later = statements[at + 1:]
    for stmt in later:
        if isinstance(stmt.node, ast.DoStmt):
            block = read_block(stmt)
            yield from (block.statements if block is not None else ())
        elif stmt.node is not None:
            yield stmt


def _on(ctx: Context, node, table: str) -> bool:
    """Whether the statement names `table` as its relation."""
    rv = getattr(node, "relation", None)
    return rv is not None and ctx.catalog.qualify(rv.schemaname, rv.relname) == table


def _alters(ctx: Context, stmt, table: str):
    if isinstance(stmt.node, ast.AlterTableStmt) and _on(ctx, stmt.node, table):
        yield from stmt.node.cmds or ()


def view_blockers(ctx: Context, table: str) -> list[int]:
    """Lines of the later statements that a view selecting every column of `table` makes fail:
    a column's type change, a column drop without CASCADE, and a DROP TABLE without CASCADE."""
    lines = []
    for stmt in later_statements(ctx):
        node = stmt.node
        if any(cmd.subtype == AT.AT_AlterColumnType
               or (cmd.subtype == AT.AT_DropColumn and cmd.behavior.name != "DROP_CASCADE")
               for cmd in _alters(ctx, stmt, table)):
            lines.append(stmt.line)
        elif isinstance(node, ast.DropStmt) and node.removeType.name == "OBJECT_TABLE" \
                and node.behavior.name != "DROP_CASCADE" \
                and any(ctx.catalog.qualify(*_schema_name(obj)) == table for obj in node.objects or ()):
            lines.append(stmt.line)
    return lines


def _schema_name(obj) -> tuple[str | None, str]:
    names = [n.sval for n in obj]
    return (names[-2] if len(names) > 1 else None), names[-1]


def later_key_on(ctx: Context, table: str, column: str) -> tuple[int, str] | None:
    """(line, what) of a later primary key, unique constraint or unique index of the migration
    that covers `column` of `table`: its rows must then differ in the column."""
    for stmt in later_statements(ctx):
        node = stmt.node
        for cmd in _alters(ctx, stmt, table):
            con = cmd.def_
            if cmd.subtype == AT.AT_AddConstraint and isinstance(con, ast.Constraint) \
                    and con.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE) \
                    and column in [k.sval for k in con.keys or ()]:
                kind = "PRIMARY KEY" if con.contype == CT.CONSTR_PRIMARY else "UNIQUE"
                return stmt.line, f"{kind} {con.conname}" if con.conname else kind
        if isinstance(node, ast.IndexStmt) and node.unique and _on(ctx, node, table) \
                and column in [p.name for p in node.indexParams or ()]:
            return stmt.line, f"unique index {node.idxname}" if node.idxname else "unique index"
    return None


def later_index_on(ctx: Context, table: str, column: str) -> bool:
    """Does a later CREATE INDEX of the migration index `column` of `table`?"""
    return any(isinstance(stmt.node, ast.IndexStmt) and _on(ctx, stmt.node, table)
               and column in [p.name for p in stmt.node.indexParams or ()]
               for stmt in later_statements(ctx))
