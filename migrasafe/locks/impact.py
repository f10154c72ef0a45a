"""The lock-impact model: for one statement, which relations it locks and how, what it
rewrites and scans, and whether it can run inside a transaction block.

`impact()` is judged against the catalog as it was before the statement ran; relations the
statement itself creates are not listed (nobody else can be using them yet).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.nodes import CmdType
from pglast.enums.parsenodes import ObjectType as OT, ReindexObjectType as RO

from ..catalog.bounds import constant
from ..catalog.names import dotted, referenced_relations, strval, walk
from ..catalog.state import Catalog
from ..model import Impact, Lock
from . import alter_table, foreign_keys, partitions
from .modes import BY_LEVEL, level
from .versions import has

ACCESS_SHARE = "AccessShareLock"
ROW_SHARE = "RowShareLock"
ROW_EXCLUSIVE = "RowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"
SHARE = "ShareLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
EXCLUSIVE = "ExclusiveLock"
ACCESS_EXCLUSIVE = "AccessExclusiveLock"


class _Builder:
    def __init__(self, catalog: Catalog, pg_version: int):
        self.catalog, self.pg_version = catalog, pg_version
        self.modes: dict[str, str] = {}
        self.impact = Impact()

    def lock(self, relation: str, mode: str) -> None:
        current = self.modes.get(relation)
        if current is None or level(mode) > level(current):
            self.modes[relation] = mode

    def lock_family(self, relation: str, mode: str) -> None:
        for rel in self.catalog.family(relation):
            self.lock(rel, mode)

    def lock_inheritors(self, relation: str, mode: str) -> None:
        for rel in self.catalog.inheritors(relation):
            self.lock(rel, mode)

    def finish(self) -> Impact:
        self.impact.locks = [Lock(rel, mode) for rel, mode in self.modes.items()]
        # A partitioned table has no storage of its own (its partitions are what is rewritten),
        # and a sequence's new file is no table rewrite.
        self.impact.rewrites = sorted(r for r in set(self.impact.rewrites) if self._has_table_storage(r))
        self.impact.scans = sorted(set(self.impact.scans))
        return self.impact


    def _has_table_storage(self, name: str) -> bool:
        rel = self.catalog.get(name)
        return rel is None or rel.kind not in ("partitioned", "sequence", "view")


def impact(node, catalog: Catalog, *, pg_version: int, timezone_utc: bool = False) -> Impact:
    b = _Builder(catalog, pg_version)
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(b, node, pg_version, timezone_utc)
    return b.finish()


def _rv(b: _Builder, rv: ast.RangeVar) -> str:
    return b.catalog.qualify(rv.schemaname, rv.relname)


# Queries -----------------------------------------------------------------------------------------

def _read(b: _Builder, node, mode: str = ACCESS_SHARE, where=None, ctes=(), expand: bool = True) -> None:
    """Every relation a query reads, and the base tables behind the views it reads.

    `where` prunes the partitions of a partitioned table when it is the query's only relation;
    `ctes` are the names the statement's own WITH defines, for a part read on its own. Without
    `expand`, only the relations named are locked: a query that is parsed but not run (a view's
    definition) never reaches the tables behind a view or the partitions of a table.
    """
    ranges = _ranges(node, ctes)
    for schema, relname, inh in ranges:
        name = b.catalog.qualify(schema, relname)
        if expand:
            _read_relation(b, name, mode, set(), where if len(ranges) == 1 else None, inh=inh)
        elif (rel := b.catalog.get(name)) is None or rel.kind != "sequence":
            b.lock(name, mode)
    if expand:
        _sequence_functions(b, node)


def _ranges(node, ctes=()) -> list[tuple[str | None, str, bool]]:
    """The relations a query names, with whether it reaches their inheritors (no ONLY)."""
    names = set(referenced_relations(node, ctes))
    return [(n.schemaname, n.relname, bool(n.inh)) for n in walk(node)
            if type(n) is ast.RangeVar and (n.schemaname, n.relname) in names]


# nextval() and setval() lock the sequence they advance in ROW EXCLUSIVE mode.
SEQUENCE_FUNCTIONS = {"nextval": ROW_EXCLUSIVE, "setval": ROW_EXCLUSIVE}


def _sequence_functions(b: _Builder, node) -> None:
    for n in walk(node):
        if type(n) is not ast.FuncCall or not n.args:
            continue
        mode = SEQUENCE_FUNCTIONS.get(strval(n.funcname[-1]).lower())
        first = n.args[0]
        if isinstance(first, ast.TypeCast):
            first = first.arg
        if mode is None or not isinstance(first, ast.A_Const) or not isinstance(first.val, ast.String):
            continue
        parts = first.val.sval.split(".")
        b.lock(b.catalog.qualify(parts[0] if len(parts) > 1 else None, parts[-1]), mode)


def _read_relation(b: _Builder, name: str, mode: str, seen: set, where=None, inh: bool = True) -> None:
    if name in seen:
        return
    seen.add(name)
    rel = b.catalog.get(name)
    b.lock(name, mode)
    if rel is None:
        return
    if rel.kind == "view":
        for dep in rel.depends_on:
            _read_relation(b, dep, mode, seen)
    if not inh:
        return
    if rel.partitions:
        survivors = partitions.pruned(b.catalog, rel, where)
        for child in survivors if survivors is not None else rel.partitions:
            _read_relation(b, child, mode, seen)
    for child in _inheritance_children(b.catalog, name):
        _read_relation(b, child, mode, seen)


def _inheritance_children(catalog: Catalog, name: str) -> list[str]:
    return [r.name for r in catalog.relations.values() if name in r.inherits]


def _select(b: _Builder, node: ast.SelectStmt, *_):
    mode = ROW_SHARE if any(isinstance(n, ast.LockingClause) for n in walk(node)) else ACCESS_SHARE
    _read(b, node, mode, where=node.whereClause)


def _writes_target(b: _Builder, target: str, where=None, rows: list[str] | None = None, inh: bool = True,
                   insert: bool = False, seen=None) -> None:
    """RowExclusiveLock on the written table, the partitions reached, the base tables behind a
    view (through views of views), and for UPDATE/DELETE the inheritance children."""
    seen = seen if seen is not None else set()
    if target in seen:
        return
    seen.add(target)
    b.lock(target, ROW_EXCLUSIVE)
    rel = b.catalog.get(target)
    if rel is None:
        return
    if rel.partitions and inh:
        reached = rows if rows is not None else partitions.pruned(b.catalog, rel, where)
        for child in reached if reached is not None else b.catalog.family(target)[1:]:
            b.lock(child, ROW_EXCLUSIVE)
    if inh and not insert:
        for child in _inheritance_children(b.catalog, target):
            _writes_target(b, child, seen=seen)
    if rel.kind == "view":
        for dep in rel.depends_on:
            _writes_target(b, dep, insert=insert, seen=seen)


def _cte_names(with_clause) -> set[str]:
    return {cte.ctename for cte in with_clause.ctes or ()} if with_clause is not None else set()


def _insert(b: _Builder, node: ast.InsertStmt, *_):
    target = _rv(b, node.relation)
    ctes = _cte_names(node.withClause)
    for part in (node.withClause, node.selectStmt):
        if part is not None:
            _read(b, part, ctes=ctes)
    rel = b.catalog.get(target)
    rows = partitions.routed(b.catalog, rel, node) if rel is not None and rel.partitions else None
    _writes_target(b, target, rows=rows, inh=node.relation.inh, insert=True)
    _inserted_rows(b, target, {t.name for t in node.cols or ()} if node.selectStmt is not None else set(),
                   _inserted_values(node, rel))


def _inserted_values(node: ast.InsertStmt, rel) -> dict:
    """column -> the one expression every inserted row gives it, when there is one."""
    select = node.selectStmt
    if rel is None or not isinstance(select, ast.SelectStmt):
        return {}
    columns = [t.name for t in node.cols] if node.cols else list(rel.columns)
    if select.valuesLists is not None:
        rows = select.valuesLists
    elif select.targetList and not select.op:
        rows = [[t.val for t in select.targetList]]
    else:
        return {}
    out = {}
    for position, column in enumerate(columns):
        exprs = {repr(row[position]) if position < len(row) else None for row in rows}
        if len(exprs) == 1 and position < len(rows[0]):
            out[column] = rows[0][position]
    return out


def _fk_check(b: _Builder, con, values: dict) -> None:
    """The key check: SELECT ... FOR KEY SHARE on the referenced table (pruned to the partition
    holding the key, when it is partitioned)."""
    b.lock(con.references, ROW_SHARE)
    value = values.get(con.columns[0]) if len(con.columns) == 1 else None
    for part in foreign_keys.checked_partitions(b.catalog, con.references, value):
        b.lock(part, ROW_SHARE)


def _inserted_rows(b: _Builder, target: str, provided: set[str], values=None) -> None:
    """What inserting rows costs beyond the target, assuming rows are inserted: nextval() for
    the sequence defaults of the columns not given, the foreign key checks, the rules' actions.
    A view's rows land in its base table."""
    _rule_actions(b, target, CmdType.CMD_INSERT)
    rel = b.catalog.get(target)
    if rel is None:
        return
    if rel.kind == "view":
        for dep in rel.depends_on:
            _inserted_rows(b, dep, provided)
        return
    for col in rel.columns.values():
        if provided and col.name in provided:
            continue
        if col.sequence:
            b.lock(col.sequence, ROW_EXCLUSIVE)
        elif col.identity:
            for seq in rel.owned_sequences:
                owned = b.catalog.get(seq)
                if owned is not None and owned.owned_by_column == col.name:
                    b.lock(seq, ROW_EXCLUSIVE)
    for con in rel.constraints.values():
        if con.kind == "f" and con.references:
            _fk_check(b, con, values or {})


def _update(b: _Builder, node: ast.UpdateStmt, *_):
    ctes = _cte_names(node.withClause)
    for part in (node.fromClause, node.targetList, node.withClause, node.whereClause):
        if part is not None:
            _read(b, part, ctes=ctes)
    target = _rv(b, node.relation)
    _writes_target(b, target, where=node.whereClause, inh=node.relation.inh)
    values = {t.name: t.val for t in node.targetList or ()}
    rel = b.catalog.get(target)
    if rel is not None and rel.partitions and node.relation.inh and set(rel.partition_key) & set(values):
        # A changed partition key moves rows to the partition the new key belongs in.
        value = constant(values[rel.partition_key[0]]) if len(rel.partition_key) == 1 else None
        moved = partitions.partition_for(b.catalog, rel, value) if value is not None else None
        for part in moved if moved is not None else b.catalog.family(target)[1:]:
            b.lock(part, ROW_EXCLUSIVE)
    _updated_rows(b, target, set(values), values)


def _updated_rows(b: _Builder, target: str, changed: set[str], values=None) -> None:
    _rule_actions(b, target, CmdType.CMD_UPDATE)
    rel = b.catalog.get(target)
    if rel is None:
        return
    for con in rel.constraints.values():
        if con.kind == "f" and con.references and changed & set(con.columns):
            _fk_check(b, con, values or {})  # the new key is checked in the parent
    for child, con in rel.referencing(b.catalog):
        if changed & set(con.ref_columns or _primary_key(rel)):
            _referencing_action(b, child.name, con.on_update)


def _delete(b: _Builder, node: ast.DeleteStmt, *_):
    ctes = _cte_names(node.withClause)
    for part in (node.usingClause, node.whereClause, node.withClause):
        if part is not None:
            _read(b, part, ctes=ctes)
    target = _rv(b, node.relation)
    _writes_target(b, target, where=node.whereClause, inh=node.relation.inh)
    _deleted_rows(b, target)


def _rule_actions(b: _Builder, target: str, event: CmdType) -> None:
    """The table's rewrite rules for the event run their actions along with the statement."""
    rel = b.catalog.get(target)
    for rule_event, actions in (rel.rules.values() if rel is not None else ()):
        if CmdType(rule_event) == event:
            for action in actions:
                handler = _HANDLERS.get(type(action))
                if handler is not None and action is not None:
                    handler(b, action, b.pg_version, False)


def _deleted_rows(b: _Builder, target: str) -> None:
    _rule_actions(b, target, CmdType.CMD_DELETE)
    rel = b.catalog.get(target)
    for child, con in (rel.referencing(b.catalog) if rel is not None else ()):
        _referencing_action(b, child.name, con.on_delete)


def _merge(b: _Builder, node, *_):
    """MERGE (PostgreSQL 15+): ROW EXCLUSIVE on the target, the source and conditions read, and
    what each of its actions costs when rows reach it (a foreign key check, nextval, ...)."""
    ctes = _cte_names(node.withClause)
    for part in (node.withClause, node.sourceRelation, node.joinCondition, node.mergeWhenClauses):
        if part is not None:
            _read(b, part, ctes=ctes)
    target = _rv(b, node.relation)
    _writes_target(b, target)
    for clause in node.mergeWhenClauses or ():
        columns = {t.name for t in clause.targetList or ()}
        action = CmdType(clause.commandType)
        if action == CmdType.CMD_INSERT:
            given = dict(zip([t.name for t in clause.targetList or ()], clause.values or ()))
            _inserted_rows(b, target, columns, given)
        elif action == CmdType.CMD_UPDATE:
            _updated_rows(b, target, columns, {t.name: t.val for t in clause.targetList or ()})
        elif action == CmdType.CMD_DELETE:
            _deleted_rows(b, target)


def _primary_key(rel) -> tuple[str, ...]:
    return next((c.columns for c in rel.constraints.values() if c.kind == "p"), ())


def _referencing_action(b: _Builder, child: str, action: str) -> None:
    """A changed or deleted parent row fires the child's foreign key action."""
    if action in ("c", "n", "d"):
        b.lock(child, ROW_EXCLUSIVE)  # CASCADE / SET NULL / SET DEFAULT write the child rows
    else:
        b.lock(child, ROW_SHARE)  # NO ACTION / RESTRICT look for child rows FOR KEY SHARE


# DDL ---------------------------------------------------------------------------------------------

def _alter_table(b: _Builder, node: ast.AlterTableStmt, pg_version, timezone_utc):
    name = _rv(b, node.relation)
    if node.objtype == OT.OBJECT_INDEX:
        # Index-only changes (index locks are not listed), but ATTACH PARTITION opens the tables
        # of both indexes to check that they match.
        for cmd in node.cmds or ():
            if cmd.subtype.name == "AT_AttachPartition":
                for schema, index in ((node.relation.schemaname, node.relation.relname),
                                      (cmd.def_.name.schemaname, cmd.def_.name.relname)):
                    idx = b.catalog.indexes.get(b.catalog.qualify_index(schema, index))
                    if idx is not None:
                        b.lock(idx.table, ACCESS_SHARE)
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
    b.impact.transactional = effect.transactional
    b.impact.notes.update(effect.notes)


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
    rel = b.catalog.get(table)
    if not node.relation.inh and rel is not None and rel.kind == "partitioned":
        # ON ONLY a partitioned table: an invalid index on the parent alone, nothing built or read;
        # each partition's index is built (CONCURRENTLY) and attached later.
        b.impact.notes["parent_only_index"] = True
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
    if kind == OT.OBJECT_INDEX:
        return  # SHARE UPDATE EXCLUSIVE on the index only
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
