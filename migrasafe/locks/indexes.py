"""Locks on existing indexes: ALTER INDEX, ALTER TABLE naming an index, index renames, REINDEX
and CLUSTER ON.

An index lock matters through its table: every query planned against a table opens all of its
indexes (get_relation_info), so while an AccessExclusiveLock on one of them is held or awaited,
the table's reads and writes wait (a partitioned index: the queries planned on the partitioned
table). The modes are those PostgreSQL 12 to 18 take (AlterTableGetLockLevel, the reloptions'
own lock levels, RenameRelation), the same on every major; tests/test_index_locks.py observes
them in pg_locks.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ObjectType as OT

from .builder import ACCESS_EXCLUSIVE, ACCESS_SHARE, SHARE_UPDATE_EXCLUSIVE, _Builder

# Storage parameters an index's ALTER ... SET/RESET changes under ShareUpdateExclusiveLock; any
# other (gin's fastupdate and gin_pending_list_limit, brin's pages_per_range and autosummarize,
# gist's buffering) takes AccessExclusiveLock.
LIGHT_OPTIONS = frozenset({"fillfactor", "deduplicate_items", "vacuum_cleanup_index_scale_factor"})

_COMMAND_MODES = {
    AT.AT_SetStatistics: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetTableSpace: ACCESS_EXCLUSIVE,  # the index's files are copied under it
    AT.AT_ChangeOwner: ACCESS_EXCLUSIVE,
}


def alter_index(b: _Builder, node: ast.AlterTableStmt) -> None:
    name = b.catalog.qualify_index(node.relation.schemaname, node.relation.relname)
    if node.missing_ok and name not in b.catalog.indexes:
        return  # IF EXISTS of one the history never made: taken as absent
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == AT.AT_AttachPartition:
            # The tables of both indexes are opened to check that they match.
            for schema, index in ((node.relation.schemaname, node.relation.relname),
                                  (cmd.def_.name.schemaname, cmd.def_.name.relname)):
                idx = b.catalog.indexes.get(b.catalog.qualify_index(schema, index))
                if idx is not None:
                    b.lock(idx.table, ACCESS_SHARE)
            continue
        if subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
            light = all(option.defname in LIGHT_OPTIONS for option in cmd.def_ or ())
            b.lock_index(name, SHARE_UPDATE_EXCLUSIVE if light else ACCESS_EXCLUSIVE)
            continue
        b.lock_index(name, _COMMAND_MODES.get(subtype, ACCESS_EXCLUSIVE))


def rename_index(b: _Builder, node: ast.RenameStmt) -> None:
    """ALTER INDEX ... RENAME takes ShareUpdateExclusiveLock; the same rename spelled ALTER TABLE
    takes AccessExclusiveLock (RenameRelation locks by the statement's kind)."""
    name = b.catalog.qualify_index(node.relation.schemaname, node.relation.relname)
    if node.missing_ok and name not in b.catalog.indexes:
        return
    b.lock_index(name, SHARE_UPDATE_EXCLUSIVE if node.renameType == OT.OBJECT_INDEX else ACCESS_EXCLUSIVE)


def depends_on_extension(b: _Builder, node: ast.AlterObjectDependsStmt, *_) -> None:
    if node.objectType == OT.OBJECT_INDEX and node.relation is not None:
        b.lock_index(b.catalog.qualify_index(node.relation.schemaname, node.relation.relname), ACCESS_EXCLUSIVE)


def cluster_on(b: _Builder, table: str, node: ast.AlterTableStmt) -> None:
    schema = table.split(".")[0]
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_ClusterOn and cmd.name:
            b.lock_index(b.catalog.qualify_index(node.relation.schemaname or schema, cmd.name), SHARE_UPDATE_EXCLUSIVE)


def rebuilt(b: _Builder, table: str, index: str | None) -> None:
    """REINDEX without CONCURRENTLY: the index (REINDEX INDEX) or each index of the table (REINDEX
    TABLE) is rebuilt under AccessExclusiveLock, held until the statement's transaction ends."""
    if index is not None:
        b.lock_index(index, ACCESS_EXCLUSIVE)
        return
    rel = b.catalog.get(table)
    for name in (rel.indexes if rel is not None else ()):
        b.lock_index(name, ACCESS_EXCLUSIVE)
