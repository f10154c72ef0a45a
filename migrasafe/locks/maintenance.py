"""TRUNCATE, VACUUM, ANALYZE, CLUSTER, REINDEX and LOCK: statements that take a whole table (or
tree of partitions and children), often one transaction per relation."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ReindexObjectType as RO

from .builder import ACCESS_EXCLUSIVE, ACCESS_SHARE, SHARE, SHARE_UPDATE_EXCLUSIVE, _Builder, _rv
from .modes import BY_LEVEL
from . import indexes
from .versions import has

def _truncate(b: _Builder, node: ast.TruncateStmt, *_):
    cascade = node.behavior.name == "DROP_CASCADE"
    pending = [(_rv(b, rv), rv.inh) for rv in node.relations or ()]
    done: set[str] = set()
    while pending:
        name, inh = pending.pop(0)
        if name in done:
            continue
        done.add(name)
        for rel in b.catalog.inheritors(name) if inh else [name]:
            b.lock(rel, ACCESS_EXCLUSIVE)
            b.impact.rewrites.append(rel)
        table = b.catalog.get(name)
        if table is not None and table.partition_of and not has("truncate_partition_skips_parent", b.pg_version):
            b.lock(table.partition_of, ACCESS_SHARE)
        if node.restart_seqs and table is not None:
            for seq in table.owned_sequences:
                b.lock(seq, ACCESS_EXCLUSIVE)
        if cascade and table is not None:
            pending.extend((child.name, True) for child, _ in table.referencing(b.catalog))


def _vacuum(b: _Builder, node: ast.VacuumStmt, pg_version, _tz):
    """VACUUM and ANALYZE: each partition (and, from PostgreSQL 16... see versions.py, each
    inheritance child) is processed as a relation of its own, in a transaction of its own."""
    options = {o.defname for o in node.options or ()}
    full = "full" in options
    analyze = not node.is_vacuumcmd or "analyze" in options
    mode = ACCESS_EXCLUSIVE if full else SHARE_UPDATE_EXCLUSIVE
    for vrel in node.rels or ():
        name = _rv(b, vrel.relation)
        b.lock_family(name, mode)
        b.impact.scans.append(name)
        children = [c for c in b.catalog.inheritors(name)[1:] if c not in b.catalog.family(name)]
        if vrel.relation.inh and children and has("vacuum_processes_inheritance_children", pg_version):
            for child in children:
                b.lock(child, mode)
        elif vrel.relation.inh and analyze:
            for child in children:
                b.lock(child, ACCESS_SHARE)  # sampled for the inheritance tree's statistics
        if full:
            b.impact.rewrites.extend(b.catalog.inheritors(name) if has(
                "vacuum_processes_inheritance_children", pg_version) else b.catalog.family(name))
    if node.is_vacuumcmd:
        b.impact.transactional = False
    b.impact.notes["vacuum_full" if full else "vacuum"] = True


def _cluster(b: _Builder, node: ast.ClusterStmt, pg_version, _tz):
    if node.relation is None:
        b.impact.transactional = False
        return
    name = _rv(b, node.relation)
    rel = b.catalog.get(name)
    if rel is not None and rel.kind == "partitioned":
        if not has("cluster_partitioned_tables", pg_version):
            b.impact.notes["unsupported"] = "CLUSTER of a partitioned table needs PostgreSQL 15 or later"
        b.impact.transactional = False  # one transaction per partition
        b.lock_family(name, ACCESS_EXCLUSIVE)
        b.impact.rewrites.extend(b.catalog.family(name))
    else:
        b.lock(name, ACCESS_EXCLUSIVE)
        b.impact.rewrites.append(name)
    b.impact.scans.append(name)


def _reindex(b: _Builder, node: ast.ReindexStmt, pg_version, _tz):
    concurrently = any(o.defname == "concurrently" for o in node.params or ())
    if concurrently:
        b.impact.transactional = False
        b.impact.notes["concurrently"] = True
        if not has("reindex_concurrently", pg_version):
            b.impact.notes["unsupported"] = "REINDEX CONCURRENTLY needs PostgreSQL 12 or later"
    table = idx = None
    if node.kind == RO.REINDEX_OBJECT_TABLE and node.relation is not None:
        table = _rv(b, node.relation)
    elif node.kind == RO.REINDEX_OBJECT_INDEX and node.relation is not None:
        idx = b.catalog.indexes.get(b.catalog.qualify_index(node.relation.schemaname, node.relation.relname))
        table = idx.table if idx else None
    elif node.kind in (RO.REINDEX_OBJECT_SCHEMA, RO.REINDEX_OBJECT_DATABASE, RO.REINDEX_OBJECT_SYSTEM):
        b.impact.transactional = False
    if not table:
        return
    b.lock(table, SHARE_UPDATE_EXCLUSIVE if concurrently else SHARE)
    b.impact.scans.append(table)
    rel = b.catalog.get(table)
    if not concurrently and (rel is None or rel.kind != "partitioned"):
        indexes.rebuilt(b, table, idx.name if idx is not None else None)
    if rel is not None and rel.kind == "partitioned" and node.kind == RO.REINDEX_OBJECT_INDEX \
            and not has("reindex_partitioned_tables", pg_version):
        b.impact.notes["unsupported"] = "REINDEX of a partitioned index needs PostgreSQL 14 or later"
    if rel is not None and rel.kind == "partitioned" and has("reindex_partitioned_tables", pg_version):
        # Each partition's indexes are rebuilt in a transaction of their own; the concurrent
        # form of REINDEX TABLE first gathers the partitions under SHARE.
        b.impact.transactional = False
        table_form = node.kind == RO.REINDEX_OBJECT_TABLE
        mode = SHARE if table_form or not concurrently else SHARE_UPDATE_EXCLUSIVE
        parts = b.catalog.family(table)[1:]
        if node.kind == RO.REINDEX_OBJECT_INDEX and idx is not None and idx.attached is not None:
            parts = idx.attached  # an index made ON ONLY reaches the partitions attached to it
        for part in parts:
            b.lock(part, mode)


def _lock(b: _Builder, node: ast.LockStmt, *_):
    mode = BY_LEVEL[node.mode]
    for rv in node.relations or ():
        name = _rv(b, rv)
        if rv.inh:
            b.lock_inheritors(name, mode)
        else:
            b.lock(name, mode)


