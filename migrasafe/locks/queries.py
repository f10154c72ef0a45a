"""Queries and data changes: what SELECT, INSERT, UPDATE, DELETE and MERGE lock, through views,
partitions, inheritance children, foreign keys, sequences and rules."""
from __future__ import annotations

from pglast import ast
from pglast.enums.nodes import CmdType

from ..catalog.bounds import constant
from ..catalog.names import cte_references, nodes_of, strval, walk
from ..catalog.state import Catalog
from . import foreign_keys, partitions
from .builder import ACCESS_SHARE, ROW_EXCLUSIVE, ROW_SHARE, _Builder, _rv
from .versions import has

def _read(b: _Builder, node, mode: str = ACCESS_SHARE, where=None, ctes=(), expand: bool = True,
          written=None) -> None:
    """Every relation a query reads, and the base tables behind the views it reads; the data
    changes of its WITH lock what they write.

    `where` prunes the partitions of a partitioned table when it is the query's only relation;
    `ctes` are the names an enclosing statement's WITH defines, for a part read on its own. Without
    `expand`, only the relations named are locked: a query that is parsed but not run (a view's
    definition) never reaches the tables behind a view or the partitions of a table. `written`:
    the RangeVar of the table a SELECT INTO creates, which it does not read.
    """
    nodes = nodes_of(node, _QUERY_NODES)  # one walk for the relations and the sequence functions
    changes = _data_changes(node, ctes) if expand else ()
    if changes:
        # What they name is theirs to lock: their target is written, not read.
        inside = {id(n) for change, _ in changes for n in nodes_of(change, _QUERY_NODES)}
        nodes = [n for n in nodes if id(n) not in inside]
    ranges = _ranges(node, nodes, ctes, written)
    for schema, relname, inh in ranges:
        name = b.catalog.qualify(schema, relname)
        if expand:
            _read_relation(b, name, mode, set(), where if len(ranges) == 1 else None, inh=inh)
        elif (rel := b.catalog.get(name)) is None or rel.kind != "sequence":
            b.lock(name, mode)
    if expand:
        _sequence_functions(b, nodes)
    for change, scope in changes:
        _DATA_CHANGES[type(change)](b, change, ctes=scope)


_QUERY_NODES = (ast.RangeVar, ast.CommonTableExpr, ast.FuncCall)


def _data_changes(node, ctes=()) -> list:
    """(query, the WITH names it sees) for each INSERT, UPDATE, DELETE or MERGE of the WITH of
    this query (or of this WITH): each runs as the statement it is, whether or not the query
    reads its rows. PostgreSQL accepts them only in the WITH of the outermost statement."""
    with_clause = node if type(node) is ast.WithClause else getattr(node, "withClause", None) \
        if type(node) is ast.SelectStmt else None
    if with_clause is None or not with_clause.ctes:
        return []
    names = [cte.ctename for cte in with_clause.ctes]
    return [(cte.ctequery, frozenset(ctes) | frozenset(names if with_clause.recursive else names[:position]))
            for position, cte in enumerate(with_clause.ctes) if type(cte.ctequery) in _DATA_CHANGES]


def _ranges(node, nodes, ctes=(), written=None) -> list[tuple[str | None, str, bool]]:
    """The relations a query names, with whether it reaches their inheritors (no ONLY): of the
    nodes of its walk, the RangeVars that do not name a WITH query in scope (one the query
    defines, or one of the `ctes` an enclosing statement's WITH defines)."""
    found = [n for n in nodes if type(n) is ast.RangeVar and n is not written]
    if ctes or any(type(n) is ast.CommonTableExpr for n in nodes):
        named = cte_references(node, ctes)
        found = [n for n in found if id(n) not in named]
    return [(n.schemaname, n.relname, bool(n.inh)) for n in found]


# nextval() and setval() lock the sequence they advance in ROW EXCLUSIVE mode.
SEQUENCE_FUNCTIONS = {"nextval": ROW_EXCLUSIVE, "setval": ROW_EXCLUSIVE}


def _sequence_functions(b: _Builder, nodes) -> None:
    for n in nodes:
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
    return catalog.inheritance_children(name)


def _select(b: _Builder, node: ast.SelectStmt, *_):
    mode = ROW_SHARE if any(isinstance(n, ast.LockingClause) for n in walk(node)) else ACCESS_SHARE
    # SELECT ... INTO creates its target, as CREATE TABLE ... AS does: it reads only the rest.
    written = node.intoClause.rel if node.intoClause is not None else None
    _read(b, node, mode, where=node.whereClause, written=written)


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


def _read_parts(b: _Builder, node, parts, ctes=()) -> None:
    """What a data change reads: its WITH (whose own data changes write), and its other parts,
    which see the names that WITH defines besides the `ctes` of an enclosing one."""
    with_clause = node.withClause
    if with_clause is not None:
        _read(b, with_clause, ctes=ctes)
    seen = frozenset(ctes) | {cte.ctename for cte in with_clause.ctes or ()} if with_clause is not None \
        else ctes
    for part in parts:
        if part is not None:
            _read(b, part, ctes=seen)


def _insert(b: _Builder, node: ast.InsertStmt, *_, ctes=()):
    target = _rv(b, node.relation)
    _read_parts(b, node, (node.selectStmt,), ctes)
    rel = b.catalog.get(target)
    rows = partitions.routed(b.catalog, rel, node) if rel is not None and rel.partitions else None
    _writes_target(b, target, rows=rows, inh=node.relation.inh, insert=True)
    # The inserted values matter only to the foreign key checks: read when there is one.
    _inserted_rows(b, target, {t.name for t in node.cols or ()} if node.selectStmt is not None else set(),
                   lambda: _inserted_values(node, rel))


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
    if not rows:
        return {}
    out = {}
    first, others = rows[0], rows[1:]
    for position, column in enumerate(columns):
        if position >= len(first):
            continue
        # The same expression in every row (compared as written: repr leaves out positions),
        # read as far as the first row that differs.
        expr = first[position]
        if others:
            written = repr(expr)
            if any(position >= len(row) or repr(row[position]) != written for row in others):
                continue
        out[column] = expr
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
    A view's rows land in its base table. `values`: column -> the value every row gives it, or
    a function that makes that dict."""
    _rule_actions(b, target, CmdType.CMD_INSERT)
    _partition_ancestors(b, target)
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
    for con in _foreign_keys(b, rel):
        if callable(values):
            values = values()
        _fk_check(b, con, values or {})


def _foreign_keys(b: _Builder, rel):
    """The foreign keys a row written into `rel` is checked against: its own and, for a
    partition, those of the partitioned tables above it, which every partition has too."""
    seen: set[str] = set()
    while rel is not None and rel.name not in seen:
        seen.add(rel.name)
        yield from (con for con in rel.constraints.values() if con.kind == "f" and con.references)
        rel = b.catalog.get(rel.partition_of) if rel.partition_of else None


def _update(b: _Builder, node: ast.UpdateStmt, *_, ctes=()):
    _read_parts(b, node, (node.fromClause, node.targetList, node.whereClause), ctes)
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
    _partition_ancestors(b, target)  # the partition constraint the new rows are checked against
    rel = b.catalog.get(target)
    if rel is None:
        return
    for con in _foreign_keys(b, rel):
        if changed & set(con.columns):
            _fk_check(b, con, values or {})  # the new key is checked in the parent
    for child, con in rel.referencing(b.catalog):
        if changed & set(con.ref_columns or rel.primary_key):
            _referencing_action(b, child.name, con.on_update)


def _delete(b: _Builder, node: ast.DeleteStmt, *_, ctes=()):
    _read_parts(b, node, (node.usingClause, node.whereClause), ctes)
    target = _rv(b, node.relation)
    _writes_target(b, target, where=node.whereClause, inh=node.relation.inh)
    if not has("delete_from_partition_skips_parent", b.pg_version):
        _partition_ancestors(b, target)
    _deleted_rows(b, target)


def _partition_ancestors(b: _Builder, target: str) -> None:
    """Rows written into a partition named directly are checked against its partition
    constraint: a session's first such row opens the partitioned tables above it (ACCESS SHARE)."""
    rel, seen = b.catalog.get(target), set()
    while rel is not None and rel.partition_of and rel.partition_of not in seen:
        seen.add(rel.partition_of)
        b.lock(rel.partition_of, ACCESS_SHARE)
        rel = b.catalog.get(rel.partition_of)


def _rule_actions(b: _Builder, target: str, event: CmdType) -> None:
    """The table's rewrite rules for the event run their actions along with the statement."""
    rel = b.catalog.get(target)
    for rule_event, actions in (rel.rules.values() if rel is not None else ()):
        if CmdType(rule_event) == event:
            for action in actions:
                if action is not None:
                    b.dispatch(b, action)


def _deleted_rows(b: _Builder, target: str) -> None:
    _rule_actions(b, target, CmdType.CMD_DELETE)
    rel = b.catalog.get(target)
    for child, con in (rel.referencing(b.catalog) if rel is not None else ()):
        _referencing_action(b, child.name, con.on_delete)


def _merge(b: _Builder, node, *_, ctes=()):
    """MERGE (PostgreSQL 15+): ROW EXCLUSIVE on the target, the source and conditions read, and
    what each of its actions costs when rows reach it (a foreign key check, nextval, ...)."""
    _read_parts(b, node, (node.sourceRelation, node.joinCondition, node.mergeWhenClauses), ctes)
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




def _referencing_action(b: _Builder, child: str, action: str) -> None:
    """A changed or deleted parent row fires the child's foreign key action; its query reaches
    every partition of a partitioned child."""
    # CASCADE / SET NULL / SET DEFAULT write the child rows; NO ACTION / RESTRICT look for
    # child rows FOR KEY SHARE.
    mode = ROW_EXCLUSIVE if action in ("c", "n", "d") else ROW_SHARE
    for rel in b.catalog.family(child):
        b.lock(rel, mode)


# The data changes a WITH can hold, and what each locks (also as a statement of its own).
_DATA_CHANGES = {ast.InsertStmt: _insert, ast.UpdateStmt: _update, ast.DeleteStmt: _delete}
if hasattr(ast, "MergeStmt"):
    _DATA_CHANGES[ast.MergeStmt] = _merge
