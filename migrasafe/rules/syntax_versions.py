"""Syntax that an older PostgreSQL major rejects outright, for MS005: the lock model notes
the options it models (CONCURRENTLY, ...); these are statements that do not exist before.

From the PostgreSQL release notes: ALTER COLUMN ... DROP EXPRESSION is new in 13; SET
COMPRESSION and CREATE OR REPLACE TRIGGER in 14; MERGE, SET ACCESS METHOD and ALTER SEQUENCE ...
SET LOGGED / UNLOGGED in 15; ALTER COLUMN ... SET EXPRESSION in 17; VIRTUAL generated columns
and NOT NULL constraints with a name or NOT VALID (ALTER TABLE ... ADD CONSTRAINT c NOT NULL col)
in 18. The truth suites check each against the older servers (tests/test_truth.py, and
tests/test_truth_matrix.py for every case an older major refuses and a newer one runs).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT, ObjectType as OT

# ALTER TABLE subcommands that do not exist before a major: subtype -> (first major, syntax).
ALTER_TABLE_SUBCOMMANDS = {
    AT.AT_DropExpression: (13, "ALTER COLUMN ... DROP EXPRESSION"),
    AT.AT_SetCompression: (14, "ALTER COLUMN ... SET COMPRESSION"),
    AT.AT_SetAccessMethod: (15, "SET ACCESS METHOD"),
    AT.AT_SetExpression: (17, "ALTER COLUMN ... SET EXPRESSION"),
}

# ALTER SEQUENCE subcommands: subtype -> (first major, syntax).
ALTER_SEQUENCE_SUBCOMMANDS = {
    AT.AT_SetLogged: (15, "ALTER SEQUENCE ... SET LOGGED"),
    AT.AT_SetUnLogged: (15, "ALTER SEQUENCE ... SET UNLOGGED"),
}

CREATE_OR_REPLACE_TRIGGER = 14


def missing_syntax(node, pg_version: int) -> str | None:
    """Why this statement does not run on `pg_version`, or None."""
    checked = _CHECKED.get(type(node))
    if checked is None:
        checked = _CHECKED[type(node)] = _checked(type(node))
    if not checked:
        return None
    if type(node).__name__ == "MergeStmt" and pg_version < 15:
        return "MERGE needs PostgreSQL 15 or later"
    if isinstance(node, ast.CreateTrigStmt) and node.replace and pg_version < CREATE_OR_REPLACE_TRIGGER:
        return f"CREATE OR REPLACE TRIGGER needs PostgreSQL {CREATE_OR_REPLACE_TRIGGER} or later"
    if isinstance(node, ast.AlterTableStmt):
        known = ALTER_SEQUENCE_SUBCOMMANDS if node.objtype == OT.OBJECT_SEQUENCE else ALTER_TABLE_SUBCOMMANDS
        for cmd in node.cmds or ():
            first, syntax = known.get(cmd.subtype, (0, ""))
            if pg_version < first:
                return f"{syntax} needs PostgreSQL {first} or later"
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


# Statement class -> whether it is one of those checked below (every other one runs on any major).
_CHECKED: dict[type, bool] = {}


def _checked(cls: type) -> bool:
    return cls.__name__ == "MergeStmt" or issubclass(cls, (ast.CreateTrigStmt, ast.AlterTableStmt, ast.CreateStmt))


def _new_columns(node):
    if isinstance(node, ast.CreateStmt):
        return [e for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
    if isinstance(node, ast.AlterTableStmt):
        return [c.def_ for c in node.cmds or () if c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)]
    return []
