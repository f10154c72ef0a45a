"""The lock-impact model: for one statement, which relations it locks and how, what it
rewrites and scans, and whether it can run inside a transaction block.

`impact()` is judged against the catalog as it was before the statement ran; relations the
statement itself creates are not listed (nobody else can be using them yet).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ObjectType as OT

from ..catalog.names import dotted, strval
from ..catalog.index_match import partitions_already_indexed
from ..catalog.state import Catalog
from ..model import Impact
from . import alter_table, foreign_keys, indexes
from .builder import (
    ACCESS_EXCLUSIVE, ACCESS_SHARE, EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, _Builder, _rv,
)
from .maintenance import _cluster, _lock, _reindex, _truncate, _vacuum
from .queries import _delete, _inheritance_children, _insert, _merge, _read, _read_relation, _select, _update
from .versions import has


def impact(node, catalog: Catalog, *, pg_version: int, timezone_utc: bool = False) -> Impact:
    b = _Builder(catalog, pg_version)
    b.dispatch = lambda builder, inner: _run(builder, inner, pg_version, timezone_utc)
    _run(b, node, pg_version, timezone_utc)
    if catalog.routines:
        _routine_bodies(b, node, pg_version, timezone_utc)
    return b.finish()


def _routine_bodies(b: _Builder, node, pg_version: int, timezone_utc: bool) -> None:
    """A call of a routine the history created takes the locks of the queries its body runs,
    held as long as the calling statement's transaction."""
    from ..routines import called  # only for histories that create routines

    for inner in called(node, b.catalog):
        if isinstance(inner.node, ast.CallStmt):
            continue
        before = dict(b.modes) if inner.own_tables else None
        _run(b, inner.node, pg_version, timezone_utc)
        if before is not None:  # a table the body creates at each call is no relation of the history
            for relation in [r for r in b.modes if inner.makes(r)]:
                if relation in before:
                    b.modes[relation] = before[relation]
                else:
                    del b.modes[relation]


def _run(b: _Builder, node, pg_version: int, timezone_utc: bool) -> None:
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(b, node, pg_version, timezone_utc)


# DDL ---------------------------------------------------------------------------------------------

def _alter_table(b: _Builder, node: ast.AlterTableStmt, pg_version, timezone_utc):
    name = _rv(b, node.relation)
    if node.objtype == OT.OBJECT_INDEX or b.catalog.index_in_place_of_table(node.relation.schemaname,
                                                                             node.relation.relname):
        indexes.alter_index(b, node)
        return
    if node.missing_ok and name in b.catalog.dropped and name not in b.catalog.relations:
        return  # ALTER TABLE IF EXISTS of a table the history dropped: nothing to lock
    # (Of one the history never created: the migration exists because the table does.)
    effect = alter_table.analyse(node, name, b.catalog, pg_version=pg_version, timezone_utc=timezone_utc)
    reached = b.catalog.inheritors(name) if node.relation.inh and effect.recurse else [name]
    for rel in reached:
        b.lock(rel, effect.mode)
    for other, mode in effect.other_locks:
        b.lock(other, mode)
    if effect.rewrite:
        b.impact.rewrites.extend(reached)
    if effect.scan or effect.rewrite:
        b.impact.scans.append(name)
    b.impact.scans.extend(effect.other_scans)
    b.impact.transactional = effect.transactional
    b.impact.notes.update(effect.notes)
    indexes.cluster_on(b, name, node)


_LIKE_DEFAULTS = 1 << 3  # CREATE_TABLE_LIKE_DEFAULTS


def _create_table(b: _Builder, node, pg_version, _tz):
    if isinstance(node, ast.CreateForeignTableStmt):
        node = node.base
    if node.if_not_exists and _rv(b, node.relation) in b.catalog.relations:
        return
    for parent in node.inhRelations or ():
        parent_name = _rv(b, parent)
        b.lock(parent_name, ACCESS_EXCLUSIVE if node.partbound is not None else SHARE_UPDATE_EXCLUSIVE)
        if node.partbound is not None and not node.partbound.is_default:
            _default_partition(b, parent_name)  # scanned: none of its rows may belong to the new one
        if node.partbound is not None:
            _cloned_foreign_keys(b, parent_name)
        elif node.partbound is None and has("like_locks_default_sequences", pg_version):
            _default_sequences(b, parent_name)
    for elt in node.tableElts or ():
        for con in _constraints_of(elt):
            if con.contype.name == "CONSTR_FOREIGN" and con.pktable is not None:
                _referenced_table(b, _rv(b, con.pktable))
        if isinstance(elt, ast.TableLikeClause):
            source = _rv(b, elt.relation)
            b.lock(source, ACCESS_SHARE)
            if elt.options & _LIKE_DEFAULTS and has("like_locks_default_sequences", pg_version):
                _default_sequences(b, source)


def _cloned_foreign_keys(b: _Builder, parent: str) -> None:
    """A new partition gets the partitioned table's foreign keys, both ways: triggers on the
    referenced tables, and checks from the tables that reference the partitioned one."""
    rel = b.catalog.get(parent)
    if rel is None:
        return
    for con in rel.constraints.values():
        if con.kind == "f" and con.references:
            _referenced_table(b, con.references)
    clone = SHARE_ROW_EXCLUSIVE if has("partition_fk_clone_share_row_exclusive", b.pg_version) else ACCESS_SHARE
    for child, _ in rel.referencing(b.catalog):
        if child.name != parent:
            b.lock(child.name, clone)


def _default_sequences(b: _Builder, source: str) -> None:
    """Copying nextval() defaults (LIKE ... INCLUDING DEFAULTS, INHERITS) locks their sequences."""
    rel = b.catalog.get(source)
    for column in (rel.columns.values() if rel else ()):
        if column.sequence:
            b.lock(column.sequence, ACCESS_SHARE)


def _default_partition(b: _Builder, parent: str) -> None:
    """A partition added to or removed from a table with a default partition changes what the
    default partition may hold: PostgreSQL locks it ACCESS EXCLUSIVE (and scans it on adding)."""
    rel = b.catalog.get(parent)
    for child in (rel.partitions if rel else ()):
        part = b.catalog.get(child)
        if part is not None and part.bound == ("default",):
            b.lock(child, ACCESS_EXCLUSIVE)


def _referenced_table(b: _Builder, target: str) -> None:
    """A new foreign key adds its triggers to the referenced table, to each partition of a
    partitioned one."""
    for rel in b.catalog.family(target):
        b.lock(rel, SHARE_ROW_EXCLUSIVE)


def _constraints_of(elt):
    if isinstance(elt, ast.Constraint):
        return [elt]
    if isinstance(elt, ast.ColumnDef):
        return list(elt.constraints or ())
    return []


def _create_index(b: _Builder, node: ast.IndexStmt, *_):
    table = _rv(b, node.relation)
    if node.concurrent:
        b.lock(table, SHARE_UPDATE_EXCLUSIVE)
        b.impact.transactional = False
        b.impact.notes["concurrently"] = True
    elif node.relation.inh:
        b.lock_family(table, SHARE)
    else:
        b.lock(table, SHARE)
    if node.if_not_exists and node.idxname and b.catalog.qualify_index(table.split(".")[0], node.idxname) \
            in b.catalog.indexes:
        # The table is locked before the name is looked up; then PostgreSQL only says the index
        # exists (a notice): nothing is built or read.
        b.impact.notes["index_exists"] = True
        return
    rel = b.catalog.get(table)
    if not node.relation.inh and rel is not None and rel.kind == "partitioned":
        # ON ONLY a partitioned table: an invalid index on the parent alone, nothing built or read;
        # each partition's index is built (CONCURRENTLY) and attached later.
        b.impact.notes["parent_only_index"] = True
        return
    if node.relation.inh and rel is not None and rel.kind == "partitioned" and partitions_already_indexed(
            b.catalog, table, node):
        b.impact.notes["attaches_partition_indexes"] = True  # nothing built or read
        return
    b.impact.scans.append(table)
    b.impact.notes["builds_index"] = True


def _drop(b: _Builder, node: ast.DropStmt, pg_version, _tz):
    kind = node.removeType
    if kind == OT.OBJECT_INDEX:
        for obj in node.objects or ():
            idx = b.catalog.indexes.get(b.catalog.qualify_index(*dotted(obj)))
            if idx is None:
                continue
            # A partitioned index goes with the indexes of every partition.
            for table in b.catalog.family(idx.table):
                b.lock(table, SHARE_UPDATE_EXCLUSIVE if node.concurrent else ACCESS_EXCLUSIVE)
        if node.concurrent:
            b.impact.transactional = False
            b.impact.notes["concurrently"] = True
    elif kind in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_SEQUENCE, OT.OBJECT_FOREIGN_TABLE):
        for obj in node.objects or ():
            name = b.catalog.qualify(*dotted(obj))
            if node.missing_ok and name not in b.catalog.relations:
                continue  # IF EXISTS of something the history never created: taken as absent
            _drop_relation(b, name, cascade=node.behavior.name == "DROP_CASCADE")
    elif kind == OT.OBJECT_TRIGGER or kind == OT.OBJECT_RULE or kind == OT.OBJECT_POLICY:
        for obj in node.objects or ():
            names = [strval(n) for n in obj]
            table = b.catalog.qualify(names[-3] if len(names) > 2 else None, names[-2])
            b.lock(table, ACCESS_EXCLUSIVE)
    elif kind == OT.OBJECT_DOMAIN and node.behavior.name == "DROP_CASCADE":
        for obj in node.objects or ():
            domain = b.catalog.domains.get(domain_name(b.catalog, obj.names if isinstance(obj, ast.TypeName) else obj))
            for table in (domain.tables_using(b.catalog) if domain else ()):
                b.lock(table, ACCESS_EXCLUSIVE)  # its columns of the domain are dropped
    elif kind == OT.OBJECT_SCHEMA and node.behavior.name == "DROP_CASCADE":
        for obj in node.objects or ():
            schema = strval(obj)
            for rel in [r for r in b.catalog.relations if r.startswith(schema + ".")]:
                _drop_relation(b, rel, cascade=True)


def _drop_relation(b: _Builder, name: str, *, cascade: bool, seen=None) -> None:
    seen = seen if seen is not None else set()
    if name in seen:
        return
    seen.add(name)
    b.lock(name, ACCESS_EXCLUSIVE)
    rel = b.catalog.get(name)
    if rel is None:
        return
    for child in rel.partitions:
        _drop_relation(b, child, cascade=cascade, seen=seen)
    for seq in rel.owned_sequences:
        b.lock(seq, ACCESS_EXCLUSIVE)
    if rel.kind == "sequence" and cascade:
        for other in b.catalog.relations.values():  # the defaults using it are dropped with it
            if any(col.sequence == name for col in other.columns.values()):
                b.lock(other.name, ACCESS_EXCLUSIVE)
    for con in rel.constraints.values():
        if con.kind == "f" and con.references and con.references != name:
            # its triggers on the referenced side go with it
            for table in foreign_keys.action_trigger_tables(b.catalog, con.references, b.pg_version):
                b.lock(table, ACCESS_EXCLUSIVE)
    if rel.partition_of:
        b.lock(rel.partition_of, ACCESS_EXCLUSIVE)
        if rel.bound != ("default",):
            _default_partition(b, rel.partition_of)
    if cascade:
        for child in _inheritance_children(b.catalog, name):
            _drop_relation(b, child, cascade=cascade, seen=seen)
    for other in b.catalog.relations.values():
        refs = [c for c in other.constraints.values() if c.kind == "f" and c.references == name]
        if refs and cascade:
            b.lock_family(other.name, ACCESS_EXCLUSIVE)  # the key is dropped from every partition
        if other.kind in ("view", "matview") and name in other.depends_on and cascade:
            _drop_relation(b, other.name, cascade=True, seen=seen)


def _rename(b: _Builder, node: ast.RenameStmt, *_):
    kind = node.renameType
    if node.relation is None:
        return
    if kind == OT.OBJECT_INDEX or kind == OT.OBJECT_TABLE and b.catalog.index_in_place_of_table(
            node.relation.schemaname, node.relation.relname):
        indexes.rename_index(b, node)
        return
    name = _rv(b, node.relation)
    if kind in (OT.OBJECT_COLUMN, OT.OBJECT_TABCONSTRAINT) and node.relation.inh:
        b.lock_inheritors(name, ACCESS_EXCLUSIVE)  # renamed in every partition and child too
    else:
        b.lock(name, ACCESS_EXCLUSIVE)


def _create_view(b: _Builder, node: ast.ViewStmt, *_):
    name = _rv(b, node.view)
    if node.replace and name in b.catalog.relations:
        b.lock(name, ACCESS_EXCLUSIVE)
    _read(b, node.query, expand=False)


def _create_table_as(b: _Builder, node: ast.CreateTableAsStmt, *_):
    if node.if_not_exists and _rv(b, node.into.rel) in b.catalog.relations:
        return
    _read(b, node.query)


def _refresh(b: _Builder, node: ast.RefreshMatViewStmt, *_):
    name = _rv(b, node.relation)
    b.lock(name, EXCLUSIVE if node.concurrent else ACCESS_EXCLUSIVE)
    rel = b.catalog.get(name)
    for dep in (rel.depends_on if rel else ()):
        _read_relation(b, dep, ACCESS_SHARE, {name})
    if not node.concurrent:
        b.impact.rewrites.append(name)
    b.impact.scans.append(name)
    if node.concurrent:
        b.impact.notes["concurrently"] = True


def _create_trigger(b: _Builder, node: ast.CreateTrigStmt, *_):
    # A row trigger on a partitioned table is cloned onto every partition.
    table = _rv(b, node.relation)
    b.lock(table, SHARE_ROW_EXCLUSIVE)
    if node.row:
        b.lock_family(table, SHARE_ROW_EXCLUSIVE)


def _create_rule(b: _Builder, node: ast.RuleStmt, *_):
    b.lock(_rv(b, node.relation), ACCESS_EXCLUSIVE)


def _policy(b: _Builder, node, *_):
    b.lock(_rv(b, node.table), ACCESS_EXCLUSIVE)


def _comment(b: _Builder, node: ast.CommentStmt, *_):
    if node.objtype in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_SEQUENCE):
        b.lock(b.catalog.qualify(*dotted(node.object)), SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype == OT.OBJECT_COLUMN:
        names = [strval(n) for n in node.object]
        b.lock(b.catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]), SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype in (OT.OBJECT_TABCONSTRAINT, OT.OBJECT_TRIGGER, OT.OBJECT_POLICY, OT.OBJECT_RULE):
        # Objects named "name ON table": the table is opened to find them.
        names = [strval(n) for n in node.object]
        if len(names) >= 2:
            b.lock(b.catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]), ACCESS_SHARE)


def _alter_enum(b: _Builder, node: ast.AlterEnumStmt, pg_version, _tz):
    if node.newVal and not node.oldVal and not has("enum_add_value_in_transaction", pg_version):
        b.impact.transactional = False


def domain_name(catalog: Catalog, names) -> str:
    schema, name = dotted(names)
    if schema:
        return f"{schema}.{name}"
    return next((f"{s}.{name}" for s in catalog.search_path if f"{s}.{name}" in catalog.domains), name)


def _alter_domain(b: _Builder, node: ast.AlterDomainStmt, *_):
    """A new (validated) constraint or NOT NULL is checked against every stored value: each
    table with a column of the domain is read under SHARE."""
    checks = node.subtype in ("V", "O") or (node.subtype == "C" and not node.def_.skip_validation)
    domain = b.catalog.domains.get(domain_name(b.catalog, node.typeName))
    if checks and domain is not None:
        for table in domain.tables_using(b.catalog):
            b.lock(table, SHARE)
            b.impact.scans.append(table)


def _alter_sequence(b: _Builder, node: ast.AlterSeqStmt, *_):
    b.lock(_rv(b, node.sequence), SHARE_ROW_EXCLUSIVE)
    for opt in node.options or ():
        names = [strval(n) for n in opt.arg] if opt.defname == "owned_by" else []
        if len(names) >= 2:  # OWNED BY table.column opens the new owner
            b.lock(b.catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]), ACCESS_SHARE)


def _set_schema(b: _Builder, node: ast.AlterObjectSchemaStmt, *_):
    if node.relation is None or node.objectType not in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW,
                                                         OT.OBJECT_SEQUENCE, OT.OBJECT_FOREIGN_TABLE):
        return
    name = _rv(b, node.relation)
    if node.missing_ok and name not in b.catalog.relations:
        return
    b.lock(name, ACCESS_EXCLUSIVE)
    rel = b.catalog.get(name)
    for seq in (rel.owned_sequences if rel else ()):
        b.lock(seq, ACCESS_EXCLUSIVE)  # owned sequences move with their table


def _create_statistics(b: _Builder, node: ast.CreateStatsStmt, *_):
    for rv in node.relations or ():
        if isinstance(rv, ast.RangeVar):
            b.lock(_rv(b, rv), SHARE_UPDATE_EXCLUSIVE)


def _create_function(b: _Builder, node: ast.CreateFunctionStmt, *_):
    """A LANGUAGE sql body is parsed and analysed at creation: it reads what it names."""
    language = next((strval(o.arg) for o in node.options or () if o.defname == "language"), "sql")
    if language.lower() != "sql":
        return
    body = node.sql_body
    if body is None:
        text = next((o.arg for o in node.options or () if o.defname == "as"), None)
        text = strval(text[0]) if isinstance(text, (list, tuple)) and text else None
        if not text:
            return
        try:
            from pglast import parser

            body = [raw.stmt for raw in parser.parse_sql(text)]
        except parser.ParseError:
            return
    _read(b, body)


def _grant(b: _Builder, node: ast.GrantStmt, pg_version, _tz):
    if not has("grant_locks_table", pg_version) or node.targtype.name != "ACL_TARGET_OBJECT":
        return
    if node.objtype in (OT.OBJECT_TABLE, OT.OBJECT_SEQUENCE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW,
                        OT.OBJECT_FOREIGN_TABLE):
        for rv in node.objects or ():
            if isinstance(rv, ast.RangeVar):
                b.lock(_rv(b, rv), ACCESS_SHARE)


def _non_transactional(b: _Builder, node, *_):
    b.impact.transactional = False


def _alter_system(b: _Builder, node, *_):
    b.impact.transactional = False


def _discard(b: _Builder, node: ast.DiscardStmt, *_):
    if node.target.name == "DISCARD_ALL":
        b.impact.transactional = False


_HANDLERS = {
    ast.SelectStmt: _select,
    ast.InsertStmt: _insert,
    ast.UpdateStmt: _update,
    ast.DeleteStmt: _delete,
    ast.MergeStmt: _merge,
    ast.AlterTableStmt: _alter_table,
    ast.CreateStmt: _create_table,
    ast.CreateForeignTableStmt: _create_table,
    ast.IndexStmt: _create_index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.AlterObjectDependsStmt: indexes.depends_on_extension,
    ast.ViewStmt: _create_view,
    ast.CreateTableAsStmt: _create_table_as,
    ast.RefreshMatViewStmt: _refresh,
    ast.TruncateStmt: _truncate,
    ast.VacuumStmt: _vacuum,
    ast.ClusterStmt: _cluster,
    ast.ReindexStmt: _reindex,
    ast.LockStmt: _lock,
    ast.CreateTrigStmt: _create_trigger,
    ast.RuleStmt: _create_rule,
    ast.CreatePolicyStmt: _policy,
    ast.AlterPolicyStmt: _policy,
    ast.CommentStmt: _comment,
    ast.AlterEnumStmt: _alter_enum,
    ast.AlterSeqStmt: _alter_sequence,
    ast.AlterDomainStmt: _alter_domain,
    ast.CreatedbStmt: _non_transactional,
    ast.DropdbStmt: _non_transactional,
    ast.CreateTableSpaceStmt: _non_transactional,
    ast.DropTableSpaceStmt: _non_transactional,
    ast.CreateSubscriptionStmt: _non_transactional,
    ast.DropSubscriptionStmt: _non_transactional,
    ast.AlterSystemStmt: _alter_system,
    ast.AlterObjectSchemaStmt: _set_schema,
    ast.CreateStatsStmt: _create_statistics,
    ast.CreateFunctionStmt: _create_function,
    ast.GrantStmt: _grant,
    ast.DiscardStmt: _discard,
}
