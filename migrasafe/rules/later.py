"""What the rest of a migration does to a table: a fix written for one statement has to leave the
statements after it working (a view created at a rename makes a later column type change fail; a
constant default makes a later primary key on the column fail); and a table dropped, then replaced
by another renamed to its name before the commit, is still there for the running code."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT, ObjectType as OT

from ..doblocks import read_block
from .base import Context


def later_statements(ctx: Context):
    """The statements of the migration after the current one, with those a DO block runs in place
    of the block, in the order written: for a statement of a DO block, the rest of its block first."""
    yield from (stmt for stmt, _ in _after(ctx))


def later_in_transaction(ctx: Context):
    """The later statements that run before the current one's transaction ends: the rest of its
    DO block (one transaction, whatever surrounds it), then, while a transaction is open, the
    statements up to a COMMIT, a ROLLBACK or the end of the block of statements sent as one."""
    if not ctx.tx.open:
        return
    tx = ctx.tx
    for stmt, in_block in _after(ctx):
        if in_block:
            yield stmt
            continue
        if ctx.statement.in_do_block and not _outlives_block(ctx):
            return  # the block ran in a transaction of its own, which ended with it
        if isinstance(stmt.node, ast.TransactionStmt):
            return
        if tx.query_block is not None and not tx.explicit and stmt.index > tx.query_block[1]:
            return  # the implicit transaction of the statements sent in one piece ends with them
        yield stmt


def _after(ctx: Context):
    """(statement, whether it is in the current statement's own DO block) of the later ones."""
    statements = ctx.migration.statements
    at = next((i for i, s in enumerate(statements) if s is ctx.statement), None)
    if at is None:
        # A statement of a DO block: the rest of its block, then the ones after the block.
        outer = _enclosing(ctx)
        if outer is not None:
            inner = read_block(statements[outer])
            siblings = inner.statements if inner is not None else []
            mine = next((i for i, s in enumerate(siblings) if (s.line, s.column, s.sql) ==
                         (ctx.statement.line, ctx.statement.column, ctx.statement.sql)), None)
            if mine is not None:
                yield from ((s, True) for s in siblings[mine + 1:] if s.node is not None)
            later = statements[outer + 1:]
        else:
            later = [s for s in statements if s.line > ctx.statement.line]
    else:
        later = statements[at + 1:]
    for stmt in later:
        if isinstance(stmt.node, ast.DoStmt):
            block = read_block(stmt)
            yield from ((s, False) for s in (block.statements if block is not None else ()))
        elif stmt.node is not None:
            yield stmt, False


def _enclosing(ctx: Context) -> int | None:
    """Where in the migration the DO block holding the current statement is."""
    if not ctx.statement.in_do_block:
        return None
    line = ctx.statement.line
    return next((i for i, s in enumerate(ctx.migration.statements)
                 if isinstance(s.node, ast.DoStmt) and s.line <= line <= s.end_line), None)


def _outlives_block(ctx: Context) -> bool:
    """Was a transaction open around the DO block, which goes on after it?"""
    tx, migration = ctx.tx, ctx.migration
    return bool(migration.in_transaction or tx.explicit or tx.query_block is not None
                or migration.meta.get("implicit_transaction"))


def names_table(ctx: Context, node, table: str) -> bool:
    """Whether the statement names `table` as its relation."""
    rv = getattr(node, "relation", None)
    return rv is not None and ctx.catalog.qualify(rv.schemaname, rv.relname) == table


def _alters(ctx: Context, stmt, table: str):
    if isinstance(stmt.node, ast.AlterTableStmt) and names_table(ctx, stmt.node, table):
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
        if isinstance(node, ast.IndexStmt) and node.unique and names_table(ctx, node, table) \
                and column in [p.name for p in node.indexParams or ()]:
            return stmt.line, f"unique index {node.idxname}" if node.idxname else "unique index"
    return None


def later_index_on(ctx: Context, table: str, column: str) -> bool:
    """Does a later CREATE INDEX of the migration index `column` of `table`?"""
    return any(isinstance(stmt.node, ast.IndexStmt) and names_table(ctx, stmt.node, table)
               and column in [p.name for p in stmt.node.indexParams or ()]
               for stmt in later_statements(ctx))


def renamed_into(ctx: Context, table: str) -> tuple[str, int] | None:
    """(the table, the line) of a later ALTER TABLE ... RENAME TO that gives another table the
    name of `table` before this transaction commits: a swap, after which the running code's
    queries, by name, reach the new table."""
    schema, name = table.split(".", 1) if "." in table else (None, table)
    for stmt in later_in_transaction(ctx):
        node = stmt.node
        if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_TABLE and node.relation is not None \
                and node.newname == name:
            source = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
            if source != table and source.split(".", 1)[0] == schema:
                return source, stmt.line
    return None


def named_earlier(ctx: Context, table: str) -> int | None:
    """The line of an earlier ALTER TABLE ... RENAME TO of this migration that gave `table` its
    name: the running code never queried it by that name."""
    schema, name = table.split(".", 1) if "." in table else (None, table)
    for stmt in ctx.migration.statements:
        if stmt is ctx.statement or stmt.line >= ctx.statement.line:
            break
        node = stmt.node
        if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_TABLE and node.relation is not None \
                and node.newname == name \
                and ctx.catalog.qualify(node.relation.schemaname, node.relation.relname).split(".", 1)[0] == schema:
            return stmt.line
    return None


def vacated_earlier(ctx: Context, table: str, column: str) -> int | None:
    """The line of an earlier statement of this migration that took the name `column` from the
    column of `table` that had it (RENAME COLUMN away, DROP COLUMN): a column added by that name
    afterwards is new, yet the running code knows the name and writes it."""
    for stmt in _before(ctx):
        node = stmt.node
        if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_COLUMN and node.subname == column \
                and names_table(ctx, node, table):
            return stmt.line
        if any(cmd.subtype == AT.AT_DropColumn and cmd.name == column for cmd in _alters(ctx, stmt, table)):
            return stmt.line
    return None


def _before(ctx: Context):
    """The statements of the migration before the current one, with those of DO blocks."""
    for stmt in ctx.migration.statements:
        if stmt is ctx.statement or stmt.line > ctx.statement.line:
            return
        if isinstance(stmt.node, ast.DoStmt):
            block = read_block(stmt)
            for inner in block.statements if block is not None else ():
                if inner.line >= ctx.statement.line:
                    return
                yield inner
        elif stmt.node is not None:
            yield stmt
