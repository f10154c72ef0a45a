"""Replay one statement's DDL into the catalog.

Only what later judgements need is modelled; a statement the catalog does not understand
changes nothing (it never fails a run). CREATE TABLE is tables.py's, ALTER TABLE alter.py's; the
other statements are here.
"""
from __future__ import annotations

import copy

from pglast import ast
from pglast.enums.parsenodes import ConstrType as CT, ObjectType as OT

from .index_match import index_signature
from .names import (
    choose_name, column_names, dotted, index_column_names, nodes_of,
    referenced_relations, shared_type, strval, type_spec,
)
from .alter import alter_table, drop_index
from .constraint_names import forget_holders, joined_names, note_constraint
from .state import Catalog, Domain, EnumType, Index, Routine
from .tables import create_table, new_relation, owned_by_option, relation_name, user_type
from .type_renames import rename_type


def apply(catalog: Catalog, node) -> None:
    handler = _HANDLERS.get(type(node))
    if handler:
        handler(catalog, node)


# Other DDL -------------------------------------------------------------------------------------

def _create_index(catalog: Catalog, node: ast.IndexStmt) -> None:
    table = relation_name(catalog, node.relation)
    schema = table.split(".")[0]
    columns = column_names(node.indexParams)
    name = node.idxname or choose_name(
        table.split(".")[1], joined_names(index_column_names(node.indexParams)), "idx",
        lambda name: f"{schema}.{name}" in catalog.indexes or f"{schema}.{name}" in catalog.relations)
    qualified = f"{schema}.{name}"
    if node.if_not_exists and qualified in catalog.indexes:
        return
    catalog.indexes[qualified] = Index(qualified, table, columns, unique=bool(node.unique),
                                       partial=node.whereClause is not None, signature=index_signature(node),
                                       created_in=catalog.migration, tablespace=node.tableSpace or "pg_default")
    if not node.relation.inh and (parent := catalog.get(table)) is not None and parent.kind == "partitioned":
        catalog.indexes[qualified].attached = []
    rel = catalog.get(table)
    if rel:
        rel.changeable("indexes").append(qualified)


def _drop(catalog: Catalog, node: ast.DropStmt) -> None:
    for obj in node.objects or ():
        if node.removeType in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_SEQUENCE,
                               OT.OBJECT_FOREIGN_TABLE):
            _drop_relation(catalog, catalog.qualify(*dotted(obj)), cascade=node.behavior.name == "DROP_CASCADE")
        elif node.removeType == OT.OBJECT_INDEX:
            drop_index(catalog, catalog.qualify_index(*dotted(obj)))
        elif node.removeType == OT.OBJECT_TYPE:
            names = obj.names if isinstance(obj, ast.TypeName) else obj
            schema, name = dotted(names)
            catalog.types.pop(f"{schema or 'public'}.{name}", None)
        elif node.removeType == OT.OBJECT_RULE:
            names = [strval(n) for n in obj]
            rel = catalog.get(catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]))
            if rel is not None:
                rel.rules.pop(names[-1], None)
        elif node.removeType == OT.OBJECT_DOMAIN:
            domain = catalog.domains.pop(domain_name(catalog, obj.names if isinstance(obj, ast.TypeName) else obj), None)
            if domain is not None and node.behavior.name == "DROP_CASCADE":
                for rel in catalog.relations.values():  # the columns of the domain go with it
                    for column in [c.name for c in rel.columns.values() if c.type.name == domain.name]:
                        del rel.columns[column]
        elif node.removeType in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE):
            from ..routines import routine_key

            names = obj.objname if isinstance(obj, ast.ObjectWithArgs) else obj
            catalog.routines.pop(routine_key(catalog, names, existing=True), None)
        elif node.removeType == OT.OBJECT_SCHEMA:
            schema = strval(obj)
            catalog.schemas.discard(schema)
            for rel in [r for r in catalog.relations if r.startswith(schema + ".")]:
                _drop_relation(catalog, rel, cascade=True)


def _drop_relation(catalog: Catalog, name: str, cascade: bool = False) -> None:
    rel = catalog.relations.pop(name, None)
    if rel is None:
        return
    catalog.dropped.add(name)
    if cascade:
        # CASCADE also drops the views built on it and the foreign keys that point at it.
        for other in list(catalog.relations.values()):
            if other.kind in ("view", "matview") and name in other.depends_on or name in other.inherits:
                _drop_relation(catalog, other.name, cascade=True)
            else:
                for key in [k for k, c in other.constraints.items() if c.kind == "f" and c.references == name]:
                    del other.constraints[key]
    for idx in rel.indexes:
        catalog.indexes.pop(idx, None)
    for seq in rel.owned_sequences:
        catalog.relations.pop(seq, None)
    for child in rel.partitions:
        _drop_relation(catalog, child)
    if rel.partition_of and rel.partition_of in catalog.relations:
        parent = catalog.relations[rel.partition_of]
        if name in parent.partitions:
            parent.partitions.remove(name)


def _rename(catalog: Catalog, node: ast.RenameStmt) -> None:
    kind = node.renameType
    if kind in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_SEQUENCE, OT.OBJECT_FOREIGN_TABLE):
        old = relation_name(catalog, node.relation)
        if old in catalog.relations:
            _move(catalog, old, f"{old.split('.')[0]}.{node.newname}")
        elif kind == OT.OBJECT_TABLE:  # ALTER TABLE renames an index as well
            _rename_index(catalog, node)
    elif kind == OT.OBJECT_INDEX:
        _rename_index(catalog, node)
    elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
        _rename_type(catalog, node)
    elif kind == OT.OBJECT_COLUMN and node.relation is not None:
        name = relation_name(catalog, node.relation)
        for rel in filter(None, map(catalog.get, catalog.inheritors(name) if node.relation.inh else [name])):
            if node.subname not in rel.columns:
                continue
            col = rel.columns.pop(node.subname)
            col = copy.copy(col)
            col.name = node.newname
            rel.columns[node.newname] = col
            for con in rel.constraints.values():
                con.columns = tuple(node.newname if c == node.subname else c for c in con.columns)
    elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN) and node.object is not None:
        rename_type(catalog, node, user_type(catalog))
    elif kind == OT.OBJECT_TABCONSTRAINT and node.relation is not None:
        rel = catalog.get(relation_name(catalog, node.relation))
        if rel and node.subname in rel.constraints:
            con = rel.constraints.pop(node.subname)
            con.name = node.newname
            rel.constraints[node.newname] = con
            note_constraint(catalog, rel.name, node.newname)
            target = catalog.get(con.references) if con.kind == "f" and con.references else None
            if target is not None:
                keys = target.changeable("referenced_by")
                keys.discard((rel.name, node.subname))
                keys.add((rel.name, node.newname))


def _rename_index(catalog: Catalog, node: ast.RenameStmt) -> None:
    old = catalog.qualify_index(node.relation.schemaname, node.relation.relname)
    idx = catalog.indexes.pop(old, None)
    if idx:
        idx.name = f"{old.split('.')[0]}.{node.newname}"
        catalog.indexes[idx.name] = idx
        rel = catalog.get(idx.table)
        if rel and old in rel.indexes:
            rel.changeable("indexes")[rel.indexes.index(old)] = idx.name


def _rename_type(catalog: Catalog, node: ast.RenameStmt) -> None:
    """The columns of a renamed enum or domain keep it under its new name: Prisma swaps an enum
    by renaming X to X_old and X_new to X, and a later fix must name the type that exists."""
    old = domain_name(catalog, node.object)
    new = f"{old.rpartition('.')[0]}.{node.newname}"
    for kinds in (catalog.types, catalog.domains):
        if old in kinds:
            kinds[new] = kinds.pop(old)
            kinds[new].name = new
    for rel in catalog.relations.values():
        for name, col in list(rel.columns.items()):
            if col.type.name == old:
                col = rel.columns[name] = copy.copy(col)  # as a column rename does: never shared
                col.type = shared_type(new, col.type.mods, col.type.array)


def _move(catalog: Catalog, old: str, new: str) -> None:
    """Rename a relation everywhere the catalog names it (RENAME, SET SCHEMA)."""
    rel = catalog.relations.pop(old)
    rel.name = new
    catalog.relations[new] = rel
    forget_holders(catalog)
    catalog.dropped.add(old)
    catalog.dropped.discard(new)
    for idx in rel.indexes:
        if idx in catalog.indexes:
            catalog.indexes[idx].table = new
    for other in catalog.relations.values():
        for con in other.constraints.values():
            if con.references == old:
                con.references = new
        if other.partition_of == old:
            other.partition_of = new
        if other.owned_by == old:
            other.owned_by = new
        # Only the containers that name it are made again: the others stay shared.
        if old in other.partitions:
            other.partitions = [new if p == old else p for p in other.partitions]
        if old in other.depends_on:
            other.depends_on = (other.depends_on - {old}) | {new}
        if old in other.owned_sequences:
            other.owned_sequences = [new if q == old else q for q in other.owned_sequences]
        if any(t == old for t, _ in other.referenced_by):
            other.referenced_by = {(new if t == old else t, c) for t, c in other.referenced_by}
        for col in other.columns.values():
            if col.sequence == old:
                col.sequence = new


def _create_view(catalog: Catalog, node: ast.ViewStmt) -> None:
    name = relation_name(catalog, node.view)
    existing = catalog.get(name)
    rel = existing if existing and node.replace else new_relation(catalog, name, "view")
    rel.depends_on = {catalog.qualify(s, n) for s, n in referenced_relations(node.query)}
    rel.depends_on_columns = _columns_used(catalog, node.query)


def _create_table_as(catalog: Catalog, node: ast.CreateTableAsStmt) -> None:
    name = relation_name(catalog, node.into.rel)
    if node.if_not_exists and name in catalog.relations:
        return
    kind = "matview" if node.objtype == OT.OBJECT_MATVIEW else "table"
    rel = new_relation(catalog, name, kind)
    rel.columns_known = False  # the query's output columns are not worked out
    rel.depends_on = {catalog.qualify(s, n) for s, n in referenced_relations(node.query)}
    rel.depends_on_columns = _columns_used(catalog, node.query)


def _columns_used(catalog: Catalog, query) -> dict[str, set[str]] | None:
    """relation -> the columns a view's query names (a * names them all); None when a name
    cannot be placed."""
    ranges = {}
    for n in nodes_of(query, (ast.RangeVar,)):
        ranges[n.alias.aliasname if n.alias else n.relname] = catalog.qualify(n.schemaname, n.relname)
    used: dict[str, set[str]] = {name: set() for name in ranges.values()}
    for n in nodes_of(query, (ast.ColumnRef,)):
        fields = n.fields
        if len(fields) == 1:
            targets = list(used)
        elif len(fields) == 2 and strval(fields[0]) in ranges:
            targets = [ranges[strval(fields[0])]]
        else:
            return None
        for target in targets:
            rel = catalog.get(target)
            if rel is None:
                return None
            if isinstance(fields[-1], ast.A_Star):
                used[target] |= set(rel.columns)
            elif strval(fields[-1]) in rel.columns:
                used[target].add(strval(fields[-1]))
    return used


def _select_into(catalog: Catalog, node: ast.SelectStmt) -> None:
    if node.intoClause is not None:
        rel = new_relation(catalog, relation_name(catalog, node.intoClause.rel), "table")
        rel.columns_known = False
        rel.depends_on = {catalog.qualify(s, n) for s, n in referenced_relations(node)} - {rel.name}


def _create_sequence(catalog: Catalog, node: ast.CreateSeqStmt) -> None:
    name = relation_name(catalog, node.sequence)
    if node.if_not_exists and name in catalog.relations:
        return
    owned_by_option(catalog, new_relation(catalog, name, "sequence"), node.options)


def _alter_sequence(catalog: Catalog, node: ast.AlterSeqStmt) -> None:
    seq = catalog.get(relation_name(catalog, node.sequence))
    if seq is not None:
        owned_by_option(catalog, seq, node.options)


def _create_enum(catalog: Catalog, node: ast.CreateEnumStmt) -> None:
    schema, name = dotted(node.typeName)
    qualified = f"{schema or catalog.search_path[0]}.{name}"
    catalog.types[qualified] = EnumType(qualified, [strval(v) for v in node.vals or ()], catalog.migration)


def _alter_enum(catalog: Catalog, node: ast.AlterEnumStmt) -> None:
    schema, name = dotted(node.typeName)
    enum = catalog.types.get(user_type(catalog)(name) if not schema else f"{schema}.{name}")
    if enum and node.newVal and node.newVal not in enum.values:
        enum.values.append(node.newVal)


def _create_domain(catalog: Catalog, node: ast.CreateDomainStmt) -> None:
    schema, name = dotted(node.domainname)
    qualified = f"{schema or catalog.search_path[0]}.{name}"
    constrained = any(c.contype in (CT.CONSTR_CHECK, CT.CONSTR_NOTNULL) for c in node.constraints or ())
    catalog.domains[qualified] = Domain(qualified, type_spec(node.typeName, user_type(catalog)), constrained)


def _alter_domain(catalog: Catalog, node: ast.AlterDomainStmt) -> None:
    domain = catalog.domains.get(domain_name(catalog, node.typeName))
    if domain is not None and node.subtype in ("C", "O"):
        domain.constrained = True


def domain_name(catalog: Catalog, names) -> str:
    schema, name = dotted(names)
    return f"{schema}.{name}" if schema else user_type(catalog)(name)


def _create_rule(catalog: Catalog, node: ast.RuleStmt) -> None:
    rel = catalog.get(relation_name(catalog, node.relation))
    if rel is not None:
        rel.changeable("rules")[node.rulename] = (node.event, tuple(node.actions or ()))


def _create_schema(catalog: Catalog, node: ast.CreateSchemaStmt) -> None:
    if node.schemaname:
        catalog.schemas.add(node.schemaname)
    for elt in node.schemaElts or ():
        apply(catalog, elt)


def _create_function(catalog: Catalog, node: ast.CreateFunctionStmt) -> None:
    volatility = "v"
    for opt in node.options or ():
        if opt.defname == "volatility":
            volatility = strval(opt.arg)[0]
    catalog.functions[strval(node.funcname[-1]).lower()] = volatility
    _keep_routine(catalog, node)


def _keep_routine(catalog: Catalog, node: ast.CreateFunctionStmt) -> None:
    """The body of a plpgsql or sql routine, which a later call runs; of one in another language
    (or a CREATE OR REPLACE into one), nothing is known any more."""
    from ..routines import routine_key

    key = routine_key(catalog, node.funcname)
    catalog.routines.pop(key, None)
    options = {o.defname: o.arg for o in node.options or ()}
    language = strval(options["language"]).lower() if "language" in options else "sql"
    if language not in ("plpgsql", "sql") or (node.sql_body is None and "as" not in options):
        return
    try:
        from pglast.stream import RawStream

        source = RawStream()(node)
    except Exception:  # noqa: BLE001 - a body pglast cannot print is one not followed
        return
    returns = node.returnType
    trigger = returns is not None and strval(returns.names[-1]).lower() in ("trigger", "event_trigger")
    catalog.routines[key] = Routine(name=key, language=language, source=source, procedure=bool(node.is_procedure),
                                    trigger=trigger)


def _set(catalog: Catalog, node: ast.VariableSetStmt) -> None:
    if node.name == "search_path" and node.args:
        path = []
        for arg in node.args:
            val = getattr(arg, "val", None)
            if isinstance(val, ast.String):
                path.append(val.sval)
        if path:
            catalog.search_path = path


def _set_schema(catalog: Catalog, node: ast.AlterObjectSchemaStmt) -> None:
    if node.relation is None:
        return
    old = relation_name(catalog, node.relation)
    rel = catalog.relations.get(old)
    if rel:
        _move(catalog, old, f"{node.newschema}.{old.split('.')[1]}")
        for seq in list(rel.owned_sequences):  # owned sequences move with their table
            if seq in catalog.relations:
                _move(catalog, seq, f"{node.newschema}.{seq.split('.')[1]}")


_HANDLERS = {
    ast.CreateStmt: create_table,
    ast.CreateForeignTableStmt: create_table,
    ast.AlterTableStmt: alter_table,
    ast.IndexStmt: _create_index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.ViewStmt: _create_view,
    ast.CreateTableAsStmt: _create_table_as,
    ast.SelectStmt: _select_into,
    ast.CreateSeqStmt: _create_sequence,
    ast.AlterSeqStmt: _alter_sequence,
    ast.CreateEnumStmt: _create_enum,
    ast.CreateDomainStmt: _create_domain,
    ast.RuleStmt: _create_rule,
    ast.AlterDomainStmt: _alter_domain,
    ast.AlterEnumStmt: _alter_enum,
    ast.CreateSchemaStmt: _create_schema,
    ast.CreateFunctionStmt: _create_function,
    ast.VariableSetStmt: _set,
    ast.AlterObjectSchemaStmt: _set_schema,
}
