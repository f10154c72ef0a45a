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


# Statements whose effect on rows is confined to the relations they name or lock. Any other kind
# (a type, domain, sequence, function or extension changed) can change the rows a table not
# touched by name would be seeded with, so no table is seeded ahead across it.
CONFINED = (
    ast.CreateStmt, ast.AlterTableStmt, ast.IndexStmt, ast.ViewStmt, ast.CommentStmt, ast.VacuumStmt,
    ast.TransactionStmt, ast.VariableSetStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt,
    ast.SelectStmt, ast.CreateTableAsStmt, ast.CreateSeqStmt, ast.GrantStmt, ast.ClusterStmt,
    ast.ReindexStmt, ast.TruncateStmt, ast.LockStmt, ast.CreateStatsStmt, ast.CreateSchemaStmt,
)
RELATION_OBJECTS = {"OBJECT_TABLE", "OBJECT_INDEX", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_COLUMN",
                    "OBJECT_TABCONSTRAINT", "OBJECT_SEQUENCE"}


def confined(result: MigrationResult) -> bool:
    """Does every statement change only the rows of the tables touched_tables names?"""
    for analysed in result.statements:
        node = analysed.statement.node
        if node is None or isinstance(node, CONFINED):
            continue
        kind = getattr(node, "removeType", None) if isinstance(node, ast.DropStmt) else (
            getattr(node, "renameType", None) if isinstance(node, ast.RenameStmt) else None)
        if kind is None or getattr(kind, "name", str(kind)) not in RELATION_OBJECTS:
            return False
    return True


def history_reach(results: list[MigrationResult]) -> tuple[list[set[str] | None], list[bool]]:
    """Per migration: touched_tables, and whether it is not confined (seed_ahead's input)."""
    return [touched_tables(r) for r in results], [not confined(r) for r in results]


def seed_ahead(touched: list[set[str] | None], fenced: list[bool], position: int):
    """For each migration after `position` that a table can be seeded ahead for: the tables it
    touches, and those touched from `position` up to it (Seeder.seed's `ahead`).

    It stops at a migration whose reach is hidden, and after one that is not confined; nothing
    is seeded ahead of a migration that is not confined itself.
    """
    if touched[position] is None or fenced[position]:
        return
    barred = set(touched[position])
    for later in range(position + 1, len(touched)):
        if touched[later] is None:
            return
        yield touched[later], barred
        if fenced[later]:
            return
        barred |= touched[later]
