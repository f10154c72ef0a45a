"""Replay one statement's DDL into the catalog.

Only what later judgements need is modelled; a statement the catalog does not understand
changes nothing (it never fails a run).
"""
from __future__ import annotations

import copy

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT, ObjectType as OT

from .bounds import partition_bound
from .index_match import index_signature
from .names import (
    SERIALS, choose_name, collation_of, column_names, dotted, index_column_names, is_volatile, nodes_of,
    not_null_check_column, referenced_relations, shared_type, strval, type_spec,
)
from .constraint_names import forget_holders, joined_names, note_constraint, unnamed_constraint_name
from .state import Catalog, Column, Constraint, Domain, EnumType, Index, Relation, Routine
from .type_renames import rename_type


def apply(catalog: Catalog, node) -> None:
    handler = _HANDLERS.get(type(node))
    if handler:
        handler(catalog, node)


def _new_relation(catalog: Catalog, name: str, kind: str) -> Relation:
    rel = Relation(name=name, kind=kind, created_in=catalog.migration)
    catalog.relations[name] = rel
    catalog.dropped.discard(name)
    return rel


def _user_type(catalog: Catalog):
    def resolve(name: str) -> str:
        for schema in catalog.search_path:
            if f"{schema}.{name}" in catalog.types or f"{schema}.{name}" in catalog.domains:
                return f"{schema}.{name}"
        return name

    return resolve


def _rel(catalog: Catalog, rv: ast.RangeVar) -> str:
    return catalog.qualify(rv.schemaname, rv.relname)


# CREATE TABLE ----------------------------------------------------------------------------------

def _create_table(catalog: Catalog, node: ast.CreateStmt) -> None:
    foreign = isinstance(node, ast.CreateForeignTableStmt)
    if foreign:
        node = node.base
    name = _rel(catalog, node.relation)
    if node.if_not_exists and name in catalog.relations:
        return
    kind = "foreign" if foreign else "partitioned" if node.partspec else "table"
    rel = _new_relation(catalog, name, kind)
    rel.unlogged = node.relation.relpersistence == "u"
    rel.tablespace = node.tablespacename or "pg_default"
    if node.partspec is not None:
        rel.partition_key = tuple(p.name or "(expr)" for p in node.partspec.partParams or ())
    for parent_rv in node.inhRelations or ():
        parent = catalog.get(_rel(catalog, parent_rv))
        if parent is None or not parent.columns_known:
            rel.columns_known = False
        if parent:
            for col in parent.columns.values():
                rel.changeable("columns").setdefault(col.name, Column(col.name, col.type, col.not_null, col.has_default))
    if node.partbound is not None and node.inhRelations:
        parent_name = _rel(catalog, node.inhRelations[0])
        rel.bound = partition_bound(node.partbound)
        parent = catalog.get(parent_name)
        if parent and not _makes_cycle(catalog, parent.name, name):
            rel.partition_of = parent_name
            parent.changeable("partitions").append(name)
    elif node.inhRelations:
        rel.inherits = [_rel(catalog, p) for p in node.inhRelations]
        catalog.note_inheritance()
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            _add_column(catalog, rel, elt)
        elif isinstance(elt, ast.Constraint):
            _add_constraint(catalog, rel, elt)
        elif isinstance(elt, ast.TableLikeClause):
            source = catalog.get(_rel(catalog, elt.relation))
            if source is None or not source.columns_known:
                rel.columns_known = False
            for col in (source.columns.values() if source else ()):
                copied = Column(col.name, col.type, col.not_null)
                if elt.options & (1 << 3):  # INCLUDING DEFAULTS: the copy shares the sequence
                    copied.has_default, copied.default_volatile = col.has_default, col.default_volatile
                    copied.sequence = col.sequence
                rel.changeable("columns")[col.name] = copied
                if elt.options & (1 << 5) and col.identity:  # INCLUDING IDENTITY: a sequence of its own
                    copied.identity, copied.not_null = col.identity, True
                    _owned_sequence(catalog, rel, col.name)


def _add_column(catalog: Catalog, rel: Relation, coldef: ast.ColumnDef) -> Column:
    spec = type_spec(coldef.typeName, _user_type(catalog))
    col = Column(name=coldef.colname, type=spec, not_null=bool(coldef.is_not_null), added_in=catalog.migration,
                 collation=collation_of(coldef))
    if spec.name in SERIALS:
        col.type = shared_type(SERIALS[spec.name], spec.mods, spec.array)
        col.not_null = True
        col.has_default = True
        col.default_volatile = True
        seq = f"{rel.name}_{col.name}_seq"
        col.sequence = seq
        _owned_sequence(catalog, rel, col.name)
    rel.changeable("columns")[col.name] = col
    for con in coldef.constraints or ():
        ct = con.contype
        if ct == CT.CONSTR_NOTNULL:
            col.not_null = True
        elif ct == CT.CONSTR_NULL:
            col.not_null = False
        elif ct == CT.CONSTR_DEFAULT:
            col.has_default = True
            col.default_volatile = is_volatile(con.raw_expr, catalog.functions)
        elif ct == CT.CONSTR_IDENTITY:
            col.identity = con.generated_when or "a"
            col.not_null = True
            _owned_sequence(catalog, rel, col.name)
        elif ct == CT.CONSTR_GENERATED:
            col.generated = con.generated_kind if con.generated_kind in ("s", "v") else "s"
        elif ct in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_CHECK, CT.CONSTR_FOREIGN):
            if ct == CT.CONSTR_FOREIGN and not con.fk_attrs:
                con.fk_attrs = (ast.String(sval=col.name),)
            _add_constraint(catalog, rel, con, default_columns=(col.name,))
    return col


def _owned_sequence(catalog: Catalog, rel: Relation, column: str) -> str:
    """The sequence PostgreSQL creates for a serial or identity column, owned by the column."""
    seq = f"{rel.name}_{column}_seq"
    seq_rel = _new_relation(catalog, seq, "sequence")
    _own(catalog, seq_rel, rel.name, column)
    return seq


def _own(catalog: Catalog, seq: Relation, table: str | None, column: str | None) -> None:
    """OWNED BY: the sequence goes with the column (dropped with it, locked with its table)."""
    old = catalog.get(seq.owned_by) if seq.owned_by else None
    if old is not None and seq.name in old.owned_sequences:
        old.owned_sequences.remove(seq.name)
    seq.owned_by, seq.owned_by_column = table, column
    new = catalog.get(table) if table else None
    if new is not None and seq.name not in new.owned_sequences:
        new.changeable("owned_sequences").append(seq.name)


def _owned_by_option(catalog: Catalog, seq: Relation, options) -> None:
    for opt in options or ():
        if opt.defname == "owned_by":
            names = [strval(n) for n in opt.arg]
            if names == ["none"]:
                _own(catalog, seq, None, None)
            elif len(names) >= 2:
                _own(catalog, seq, catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]), names[-1])


def _constraint_name(catalog: Catalog, rel: Relation, con: ast.Constraint, columns: tuple[str, ...],
                     column: str | None) -> str:
    if con.conname:
        return con.conname
    name = unnamed_constraint_name(catalog, rel.name, con, column)
    if name is not None:
        return name
    table = rel.name.split(".")[1]
    suffix = {CT.CONSTR_PRIMARY: "pkey", CT.CONSTR_UNIQUE: "key", CT.CONSTR_CHECK: "check",
              CT.CONSTR_FOREIGN: "fkey", CT.CONSTR_EXCLUSION: "excl", CT.CONSTR_NOTNULL: "not_null"}
    middle = "_".join(columns) if con.contype != CT.CONSTR_PRIMARY else ""
    return "_".join(p for p in (table, middle, suffix.get(con.contype, "con")) if p)


def _add_constraint(catalog: Catalog, rel: Relation, con: ast.Constraint, default_columns=()) -> None:
    ct = con.contype
    kind = {CT.CONSTR_PRIMARY: "p", CT.CONSTR_UNIQUE: "u", CT.CONSTR_CHECK: "c",
            CT.CONSTR_FOREIGN: "f", CT.CONSTR_EXCLUSION: "x", CT.CONSTR_NOTNULL: "n"}.get(ct)
    if kind is None:
        return
    if ct == CT.CONSTR_FOREIGN:
        columns = column_names(con.fk_attrs) or default_columns
    elif ct == CT.CONSTR_EXCLUSION:
        columns = tuple(column_names([pair[0] for pair in con.exclusions or ()]))
    else:
        columns = column_names(con.keys) or default_columns
    if con.indexname:  # USING INDEX: the constraint takes over an existing index
        idx = catalog.indexes.get(catalog.qualify_index(None, con.indexname))
        columns = idx.columns if idx else columns
    name = _constraint_name(catalog, rel, con, columns, default_columns[0] if default_columns else None)
    constraint = Constraint(name=name, kind=kind, columns=columns, validated=not con.skip_validation)
    if kind == "f" and con.pktable is not None:
        constraint.references = _rel(catalog, con.pktable)
        target = rel if constraint.references == rel.name else catalog.get(constraint.references)
        if target is not None:
            target.changeable("referenced_by").add((rel.name, name))
        constraint.ref_columns = column_names(con.pk_attrs)
        constraint.on_delete = con.fk_del_action if con.fk_del_action not in ("\x00", "", None) else "a"
        constraint.on_update = con.fk_upd_action if con.fk_upd_action not in ("\x00", "", None) else "a"
    if kind == "c":
        constraint.not_null_of = not_null_check_column(con.raw_expr)
    if kind in ("p", "n"):
        for c in columns:
            if c in rel.columns and (kind == "p" or constraint.validated):
                rel.columns[c].not_null = True
    if kind in ("p", "u", "x"):
        schema = rel.name.split(".")[0]
        index_name = f"{schema}.{con.indexname or name}"
        catalog.indexes[index_name] = Index(index_name, rel.name, columns, unique=kind != "x")
        if index_name not in rel.indexes:
            rel.changeable("indexes").append(index_name)
        constraint.index = index_name
    rel.changeable("constraints")[name] = constraint
    note_constraint(catalog, rel.name, name)


# ALTER TABLE -----------------------------------------------------------------------------------

def _alter_table(catalog: Catalog, node: ast.AlterTableStmt) -> None:
    if node.objtype == OT.OBJECT_INDEX:
        parent = catalog.indexes.get(catalog.qualify_index(node.relation.schemaname, node.relation.relname))
        for cmd in node.cmds or ():
            if cmd.subtype == AT.AT_AttachPartition and parent is not None and parent.attached is not None:
                child = catalog.indexes.get(catalog.qualify_index(cmd.def_.name.schemaname, cmd.def_.name.relname))
                if child is not None and child.table not in parent.attached:
                    parent.attached.append(child.table)
        return
    rel = catalog.get(_rel(catalog, node.relation))
    if rel is None:
        return
    inheritors = catalog.inheritors(rel.name)[1:] if node.relation.inh else []
    for cmd in node.cmds or ():
        _ALTER.get(cmd.subtype, lambda c, r, x: None)(catalog, rel, cmd)
        for child in filter(None, map(catalog.get, inheritors)):
            _inherited_column_change(rel, child, cmd)


def _inherited_column_change(parent: Relation, child: Relation, cmd) -> None:
    """Column changes PostgreSQL repeats on every partition and inheritance child."""
    if cmd.subtype == AT.AT_AddColumn and cmd.def_.colname in parent.columns:
        child.changeable("columns").setdefault(cmd.def_.colname, copy.copy(parent.columns[cmd.def_.colname]))
    elif cmd.subtype == AT.AT_DropColumn:
        child.columns.pop(cmd.name, None)
    elif cmd.subtype == AT.AT_AlterColumnType and cmd.name in child.columns and cmd.name in parent.columns:
        child.columns[cmd.name].type = parent.columns[cmd.name].type


def _at_add_column(catalog, rel, cmd):
    if cmd.missing_ok and cmd.def_.colname in rel.columns:
        return
    _add_column(catalog, rel, cmd.def_)


def _at_drop_column(catalog, rel, cmd):
    if cmd.behavior.name == "DROP_CASCADE":
        for view in catalog.views_on_column(rel.name, cmd.name):
            catalog.relations.pop(view, None)
    rel.columns.pop(cmd.name, None)
    _drop_owned_sequences(catalog, rel, cmd.name)
    for name in [n for n, c in rel.constraints.items() if cmd.name in c.columns]:
        del rel.constraints[name]
    # PostgreSQL drops the indexes on the column with it (a key's among them): their names are free.
    for name in [i for i in rel.indexes if (idx := catalog.indexes.get(i)) is not None and cmd.name in idx.columns]:
        _drop_index(catalog, name)


def _at_type(catalog, rel, cmd):
    col = rel.columns.get(cmd.name)
    if col:
        col.type = type_spec(cmd.def_.typeName, _user_type(catalog))
        col.collation = collation_of(cmd.def_)  # without COLLATE, the new type's default


def _at_default(catalog, rel, cmd):
    col = rel.columns.get(cmd.name)
    if col:
        col.has_default = cmd.def_ is not None
        col.default_volatile = cmd.def_ is not None and is_volatile(cmd.def_, catalog.functions)


def _at_not_null(value):
    def run(catalog, rel, cmd):
        col = rel.columns.get(cmd.name)
        if col:
            col.not_null = value
    return run


def _at_add_constraint(catalog, rel, cmd):
    _add_constraint(catalog, rel, cmd.def_)


def _at_validate(catalog, rel, cmd):
    con = rel.constraints.get(cmd.name)
    if con:
        con.validated = True
        if con.kind == "n":
            for c in con.columns:
                if c in rel.columns:
                    rel.columns[c].not_null = True


def _at_drop_constraint(catalog, rel, cmd):
    con = rel.constraints.pop(cmd.name, None)
    if con and con.index:
        catalog.indexes.pop(con.index, None)
        if con.index in rel.indexes:
            rel.indexes.remove(con.index)


def _makes_cycle(catalog, parent: str, child: str) -> bool:
    """Would `child` become its own ancestor? PostgreSQL refuses such a statement, so the
    catalog never records the link (the lock model walks partitions recursively)."""
    seen = set()
    while parent is not None and parent not in seen:
        if parent == child:
            return True
        seen.add(parent)
        above = catalog.relations.get(parent)
        parent = above.partition_of if above else None
    return False


def _at_attach(catalog, rel, cmd):
    child = _rel(catalog, cmd.def_.name)
    if _makes_cycle(catalog, rel.name, child):
        return
    if child not in rel.partitions:
        rel.changeable("partitions").append(child)
    if child in catalog.relations:
        catalog.relations[child].partition_of = rel.name
        if cmd.def_.bound is not None:
            catalog.relations[child].bound = partition_bound(cmd.def_.bound)


def _at_detach(catalog, rel, cmd):
    child = _rel(catalog, cmd.def_.name)
    if child in rel.partitions:
        rel.partitions.remove(child)
    if child in catalog.relations:
        catalog.relations[child].partition_of = None


def _at_logged(value):
    def run(catalog, rel, cmd):
        rel.unlogged = value
    return run


def _at_tablespace(catalog, rel, cmd):
    rel.tablespace = cmd.name


def _at_identity(catalog, rel, cmd):
    col = rel.columns.get(cmd.name)
    if col:
        col.identity = "a"
        col.not_null = True
        if f"{rel.name}_{col.name}_seq" not in catalog.relations:
            _owned_sequence(catalog, rel, col.name)


def _at_drop_identity(catalog, rel, cmd):
    col = rel.columns.get(cmd.name)
    if col and col.identity:
        col.identity = ""
        _drop_owned_sequences(catalog, rel, cmd.name)


def _drop_owned_sequences(catalog, rel, column: str) -> None:
    for seq in list(rel.owned_sequences):
        owned = catalog.get(seq)
        if owned is None or owned.owned_by_column == column:
            rel.owned_sequences.remove(seq)
            catalog.relations.pop(seq, None)


_ALTER = {
    AT.AT_AddColumn: _at_add_column,
    AT.AT_DropColumn: _at_drop_column,
    AT.AT_AlterColumnType: _at_type,
    AT.AT_ColumnDefault: _at_default,
    AT.AT_SetNotNull: _at_not_null(True),
    AT.AT_DropNotNull: _at_not_null(False),
    AT.AT_AddConstraint: _at_add_constraint,
    AT.AT_ValidateConstraint: _at_validate,
    AT.AT_DropConstraint: _at_drop_constraint,
    AT.AT_AttachPartition: _at_attach,
    AT.AT_DetachPartition: _at_detach,
    AT.AT_SetLogged: _at_logged(False),
    AT.AT_SetUnLogged: _at_logged(True),
    AT.AT_AddIdentity: _at_identity,
    AT.AT_DropIdentity: _at_drop_identity,
    AT.AT_SetTableSpace: _at_tablespace,
}


# Other DDL -------------------------------------------------------------------------------------

def _create_index(catalog: Catalog, node: ast.IndexStmt) -> None:
    table = _rel(catalog, node.relation)
    schema = table.split(".")[0]
    columns = column_names(node.indexParams)
    name = node.idxname or choose_name(
        table.split(".")[1], joined_names(index_column_names(node.indexParams)), "idx",
        lambda name: f"{schema}.{name}" in catalog.indexes or f"{schema}.{name}" in catalog.relations)
    qualified = f"{schema}.{name}"
    if node.if_not_exists and qualified in catalog.indexes:
        return
    catalog.indexes[qualified] = Index(qualified, table, columns, unique=bool(node.unique),
                                       partial=node.whereClause is not None, signature=index_signature(node))
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
            _drop_index(catalog, catalog.qualify_index(*dotted(obj)))
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


def _drop_index(catalog: Catalog, name: str) -> None:
    idx = catalog.indexes.pop(name, None)
    if idx and idx.table in catalog.relations:
        rel = catalog.relations[idx.table]
        if name in rel.indexes:
            rel.indexes.remove(name)


def _rename(catalog: Catalog, node: ast.RenameStmt) -> None:
    kind = node.renameType
    if kind in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_SEQUENCE, OT.OBJECT_FOREIGN_TABLE):
        old = _rel(catalog, node.relation)
        if old in catalog.relations:
            _move(catalog, old, f"{old.split('.')[0]}.{node.newname}")
    elif kind == OT.OBJECT_INDEX:
        old = catalog.qualify_index(node.relation.schemaname, node.relation.relname)
        idx = catalog.indexes.pop(old, None)
        if idx:
            idx.name = f"{old.split('.')[0]}.{node.newname}"
            catalog.indexes[idx.name] = idx
            rel = catalog.get(idx.table)
            if rel and old in rel.indexes:
                rel.indexes[rel.indexes.index(old)] = idx.name
    elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
        _rename_type(catalog, node)
    elif kind == OT.OBJECT_COLUMN and node.relation is not None:
        name = _rel(catalog, node.relation)
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
        rename_type(catalog, node, _user_type(catalog))
    elif kind == OT.OBJECT_TABCONSTRAINT and node.relation is not None:
        rel = catalog.get(_rel(catalog, node.relation))
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
    name = _rel(catalog, node.view)
    existing = catalog.get(name)
    rel = existing if existing and node.replace else _new_relation(catalog, name, "view")
    rel.depends_on = {catalog.qualify(s, n) for s, n in referenced_relations(node.query)}
    rel.depends_on_columns = _columns_used(catalog, node.query)


def _create_table_as(catalog: Catalog, node: ast.CreateTableAsStmt) -> None:
    name = _rel(catalog, node.into.rel)
    if node.if_not_exists and name in catalog.relations:
        return
    kind = "matview" if node.objtype == OT.OBJECT_MATVIEW else "table"
    rel = _new_relation(catalog, name, kind)
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
        rel = _new_relation(catalog, _rel(catalog, node.intoClause.rel), "table")
        rel.columns_known = False
        rel.depends_on = {catalog.qualify(s, n) for s, n in referenced_relations(node)} - {rel.name}


def _create_sequence(catalog: Catalog, node: ast.CreateSeqStmt) -> None:
    name = _rel(catalog, node.sequence)
    if node.if_not_exists and name in catalog.relations:
        return
    _owned_by_option(catalog, _new_relation(catalog, name, "sequence"), node.options)


def _alter_sequence(catalog: Catalog, node: ast.AlterSeqStmt) -> None:
    seq = catalog.get(_rel(catalog, node.sequence))
    if seq is not None:
        _owned_by_option(catalog, seq, node.options)


def _create_enum(catalog: Catalog, node: ast.CreateEnumStmt) -> None:
    schema, name = dotted(node.typeName)
    qualified = f"{schema or catalog.search_path[0]}.{name}"
    catalog.types[qualified] = EnumType(qualified, [strval(v) for v in node.vals or ()], catalog.migration)


def _alter_enum(catalog: Catalog, node: ast.AlterEnumStmt) -> None:
    schema, name = dotted(node.typeName)
    enum = catalog.types.get(_user_type(catalog)(name) if not schema else f"{schema}.{name}")
    if enum and node.newVal and node.newVal not in enum.values:
        enum.values.append(node.newVal)


def _create_domain(catalog: Catalog, node: ast.CreateDomainStmt) -> None:
    schema, name = dotted(node.domainname)
    qualified = f"{schema or catalog.search_path[0]}.{name}"
    constrained = any(c.contype in (CT.CONSTR_CHECK, CT.CONSTR_NOTNULL) for c in node.constraints or ())
    catalog.domains[qualified] = Domain(qualified, type_spec(node.typeName, _user_type(catalog)), constrained)


def _alter_domain(catalog: Catalog, node: ast.AlterDomainStmt) -> None:
    domain = catalog.domains.get(domain_name(catalog, node.typeName))
    if domain is not None and node.subtype in ("C", "O"):
        domain.constrained = True


def domain_name(catalog: Catalog, names) -> str:
    schema, name = dotted(names)
    return f"{schema}.{name}" if schema else _user_type(catalog)(name)


def _create_rule(catalog: Catalog, node: ast.RuleStmt) -> None:
    rel = catalog.get(_rel(catalog, node.relation))
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
    old = _rel(catalog, node.relation)
    rel = catalog.relations.get(old)
    if rel:
        _move(catalog, old, f"{node.newschema}.{old.split('.')[1]}")
        for seq in list(rel.owned_sequences):  # owned sequences move with their table
            if seq in catalog.relations:
                _move(catalog, seq, f"{node.newschema}.{seq.split('.')[1]}")


_HANDLERS = {
    ast.CreateStmt: _create_table,
    ast.CreateForeignTableStmt: _create_table,
    ast.AlterTableStmt: _alter_table,
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
