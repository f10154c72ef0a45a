"""Where a foreign key's triggers live, hence what creating, dropping or checking one locks.

A foreign key puts check triggers on the referencing table and action triggers on the referenced
one. When the referenced table is partitioned, PostgreSQL puts them on each of its partitions,
and (from PostgreSQL 17) on the partitioned table itself too.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ConstrType as CT

from ..catalog.bounds import constant
from ..catalog.state import Catalog, Relation
from . import partitions
from .versions import has

ACCESS_EXCLUSIVE = "AccessExclusiveLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"


def action_trigger_tables(catalog: Catalog, referenced: str, pg_version: int) -> list[str]:
    """The relations holding the referenced side's triggers: locked when the key is dropped."""
    with_triggers = has("fk_triggers_on_partitioned_referenced_table", pg_version)
    return [name for name in catalog.family(referenced)
            if with_triggers or (rel := catalog.get(name)) is None or rel.kind != "partitioned"]


def checked_partitions(catalog: Catalog, referenced: str, value_expr=None) -> list[str]:
    """The partitions of a partitioned referenced table a key check reads (it runs pruned by
    the key): the one holding a known constant key, every one when the key is not known."""
    rel = catalog.get(referenced)
    if rel is None or not rel.partitions:
        return []
    value = constant(value_expr) if value_expr is not None else None
    if value is not None and len(rel.partition_key) == 1:
        chosen = partitions.partition_for(catalog, rel, value)
        if chosen is not None:
            return chosen
    return catalog.family(referenced)[1:]


def validates_column_key(coldef: ast.ColumnDef, others_have_default: bool = False, pg_version: int = 13) -> bool:
    """Does PostgreSQL check the existing rows against a REFERENCES written inside ADD COLUMN?
    Without a default every row holds NULL, which satisfies the key, and the server marks it valid
    unchecked (transformAlterTableStmt); a DEFAULT, even DEFAULT NULL, makes it check every row. On
    12 a default on any column the statement adds does (observed: tests/test_add_column_constraints.py)."""
    own = any(c.contype == CT.CONSTR_DEFAULT for c in coldef.constraints or ())
    return own or (others_have_default and pg_version < 13)


def keys_on_column(effect, rel: Relation, column: str, catalog: Catalog, pg_version: int,
                   readd: bool = False, recheck: bool = False) -> None:
    """Dropping or retyping a key column drops (and, retyping, re-creates) the foreign keys using
    it, with their triggers on the other table. A re-created key is checked against every row
    again (a join of both tables, under the statement's locks) when `recheck`: PostgreSQL skips
    the check only when the column keeps its storage and its equality operator (tablecmds.c,
    ATAddForeignKeyConstraint's old_check_ok; observed: tests/test_foreign_key_recheck.py).
    `effect`: alter_table.Effect, collecting the statement's other locks and scans."""
    for con in rel.constraints.values():
        if con.kind == "f" and con.references and column in con.columns:
            effect.scan = effect.scan or recheck
            if con.references == rel.name:
                continue
            effect.other_locks.extend((r, ACCESS_EXCLUSIVE)
                                      for r in action_trigger_tables(catalog, con.references, pg_version))
            if readd:
                effect.other_locks.extend((r, SHARE_ROW_EXCLUSIVE) for r in catalog.family(con.references))
            if recheck:
                effect.other_scans.append(con.references)
    for child, con in rel.referencing(catalog):
        if column in (con.ref_columns or rel.primary_key):
            effect.scan = effect.scan or recheck
            if child.name == rel.name:
                continue
            effect.other_locks.append((child.name, ACCESS_EXCLUSIVE))
            if recheck:
                effect.other_scans.append(child.name)
