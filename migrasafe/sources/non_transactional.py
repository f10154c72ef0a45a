"""Statements Flyway's PostgreSQL parser runs outside a transaction, as its own list has them."""
from __future__ import annotations

from pglast import ast, enums
from pglast.enums import ObjectType

from ..model import Statement


def flyway_label(statement: Statement, pg_version: int) -> str | None:
    """What Flyway's PostgreSQL parser marks as non-transactional, named for messages; else None.

    This is Flyway's list, not PostgreSQL's: REINDEX TABLE ... CONCURRENTLY, for one, is not on
    it, so Flyway runs it inside its transaction (where PostgreSQL rejects it).
    """
    node = statement.node
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE UNIQUE INDEX CONCURRENTLY" if node.unique else "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent and node.removeType == ObjectType.OBJECT_INDEX:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:
        return "VACUUM"
    if isinstance(node, ast.ReindexStmt) and node.kind in _REINDEX_WIDE:
        return _REINDEX_WIDE[node.kind]
    for node_type, label in _ALWAYS:
        if isinstance(node, node_type):
            return label
    if isinstance(node, ast.DiscardStmt) and node.target == enums.DiscardMode.DISCARD_ALL:
        return "DISCARD ALL"
    if isinstance(node, ast.AlterEnumStmt) and node.newVal and not node.oldVal and pg_version < 12:
        return "ALTER TYPE ... ADD VALUE"
    return None


_REINDEX_WIDE = {
    enums.ReindexObjectType.REINDEX_OBJECT_SCHEMA: "REINDEX SCHEMA",
    enums.ReindexObjectType.REINDEX_OBJECT_DATABASE: "REINDEX DATABASE",
    enums.ReindexObjectType.REINDEX_OBJECT_SYSTEM: "REINDEX SYSTEM",
}

_ALWAYS = (
    (ast.CreatedbStmt, "CREATE DATABASE"),
    (ast.DropdbStmt, "DROP DATABASE"),
    (ast.CreateTableSpaceStmt, "CREATE TABLESPACE"),
    (ast.DropTableSpaceStmt, "DROP TABLESPACE"),
    (ast.CreateSubscriptionStmt, "CREATE SUBSCRIPTION"),
    (ast.DropSubscriptionStmt, "DROP SUBSCRIPTION"),
    (ast.AlterSystemStmt, "ALTER SYSTEM"),
)
