"""Syntax that an older PostgreSQL major rejects outright, for MS005: the lock model notes
the options it models (CONCURRENTLY, ...); these are statements that do not exist before.

From the PostgreSQL release notes: MERGE is new in 15; VIRTUAL generated columns and NOT NULL
constraints with a name or NOT VALID (ALTER TABLE ... ADD CONSTRAINT c NOT NULL col) in 18.
The truth suite checks each against the older servers (tests/test_truth.py).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT


def missing_syntax(node, pg_version: int) -> str | None:
    """Why this statement does not run on `pg_version`, or None."""
    if type(node).__name__ == "MergeStmt" and pg_version < 15:
        return "MERGE needs PostgreSQL 15 or later"
    if pg_version < 18:
        for column in _new_columns(node):
            for con in column.constraints or ():
                if con.contype == CT.CONSTR_GENERATED and con.generated_kind == "v":
                    return "VIRTUAL generated columns need PostgreSQL 18 or later"
        if isinstance(node, ast.AlterTableStmt):
            for cmd in node.cmds or ():
                if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint) \
                        and cmd.def_.contype == CT.CONSTR_NOTNULL:
                    return "ADD CONSTRAINT ... NOT NULL needs PostgreSQL 18 or later"
    return None


def _new_columns(node):
    if isinstance(node, ast.CreateStmt):
        return [e for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
    if isinstance(node, ast.AlterTableStmt):
        return [c.def_ for c in node.cmds or () if c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)]
    return []
