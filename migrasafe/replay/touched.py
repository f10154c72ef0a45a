"""Which tables a migration's statements can read or change, so the replay seeds only those before
it (a table nothing touches yet gets its rows before the first migration that does).

The names come from the lock model (every relation a statement locks, rewrites or scans) and from
every table the statement's parse tree names. A statement whose reach the tree does not show —
a DO block, CALL, EXECUTE, or a SELECT calling a function — makes the answer None: seed
everything. Views, partitions and triggers are left to the seeder, which sees the catalog.
"""
from __future__ import annotations

from pglast import ast
from pglast.visitors import Visitor

from ..model import MigrationResult

OPAQUE = (ast.DoStmt, ast.CallStmt, ast.ExecuteStmt)


class Names(Visitor):
    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self.calls = False

    def visit_RangeVar(self, ancestors, node):
        if node.relname:
            self.names.add(f"{node.schemaname or 'public'}.{node.relname}")

    def visit_FuncCall(self, ancestors, node):
        self.calls = True


def touched_tables(result: MigrationResult) -> set[str] | None:
    """Schema-qualified tables the migration touches, or None when it cannot be told."""
    out: set[str] = set()
    for analysed in result.statements:
        node = analysed.statement.node
        if node is None:
            continue
        if isinstance(node, OPAQUE):
            return None
        out.update(lock.relation for lock in analysed.impact.locks)
        out.update(analysed.impact.rewrites)
        out.update(analysed.impact.scans)
        out.update(analysed.live)
        names = Names()
        names(node)
        if names.calls and isinstance(node, ast.SelectStmt):
            return None
        out.update(names.names)
    return out
