"""CREATE TABLE into the catalog: the relation, its columns, their sequences and constraints
(apply.py's CREATE TABLE; alter.py adds columns and constraints the same way)."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ConstrType as CT

from .bounds import partition_bound
from .names import (
    SERIALS, collation_of, column_names, is_volatile, not_null_check_column, shared_type, strval, type_spec,
)
from .constraint_names import note_constraint, unnamed_constraint_name
from .state import Catalog, Column, Constraint, Index, Relation


def new_relation(catalog: Catalog, name: str, kind: str) -> Relation:
    rel = Relation(name=name, kind=kind, created_in=catalog.migration)
    catalog.relations[name] = rel
    catalog.dropped.discard(name)
    return rel


def user_type(catalog: Catalog):
    def resolve(name: str) -> str:
        for schema in catalog.search_path:
            if f"{schema}.{name}" in catalog.types or f"{schema}.{name}" in catalog.domains:
                return f"{schema}.{name}"
        return name

    return resolve


def relation_name(catalog: Catalog, rv: ast.RangeVar) -> str:
    return catalog.qualify(rv.schemaname, rv.relname)


def create_table(catalog: Catalog, node: ast.CreateStmt) -> None:
    foreign = isinstance(node, ast.CreateForeignTableStmt)
    if foreign:
        node = node.base
    name = relation_name(catalog, node.relation)
    if node.if_not_exists and name in catalog.relations:
        return
    kind = "foreign" if foreign else "partitioned" if node.partspec else "table"
    rel = new_relation(catalog, name, kind)
    rel.unlogged = node.relation.relpersistence == "u"
    rel.tablespace = node.tablespacename or "pg_default"
    if node.partspec is not None:
        rel.partition_key = tuple(p.name or "(expr)" for p in node.partspec.partParams or ())
    for parent_rv in node.inhRelations or ():
        parent = catalog.get(relation_name(catalog, parent_rv))
        if parent is None or not parent.columns_known:
            rel.columns_known = False
        if parent:
            for col in parent.columns.values():
                rel.changeable("columns").setdefault(col.name, Column(col.name, col.type, col.not_null, col.has_default))
    if node.partbound is not None and node.inhRelations:
        parent_name = relation_name(catalog, node.inhRelations[0])
        rel.bound = partition_bound(node.partbound)
        parent = catalog.get(parent_name)
        if parent and not makes_cycle(catalog, parent.name, name):
            rel.partition_of = parent_name
            parent.changeable("partitions").append(name)
    elif node.inhRelations:
        rel.inherits = [relation_name(catalog, p) for p in node.inhRelations]
        catalog.note_inheritance()
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            add_column(catalog, rel, elt)
        elif isinstance(elt, ast.Constraint):
            add_constraint(catalog, rel, elt)
        elif isinstance(elt, ast.TableLikeClause):
            source = catalog.get(relation_name(catalog, elt.relation))
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
                    owned_sequence(catalog, rel, col.name)


def add_column(catalog: Catalog, rel: Relation, coldef: ast.ColumnDef) -> Column:
    spec = type_spec(coldef.typeName, user_type(catalog))
    col = Column(name=coldef.colname, type=spec, not_null=bool(coldef.is_not_null), added_in=catalog.migration,
                 collation=collation_of(coldef))
    if spec.name in SERIALS:
        col.type = shared_type(SERIALS[spec.name], spec.mods, spec.array)
        col.not_null = True
        col.has_default = True
        col.default_volatile = True
        seq = f"{rel.name}_{col.name}_seq"
        col.sequence = seq
        owned_sequence(catalog, rel, col.name)
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
            owned_sequence(catalog, rel, col.name)
        elif ct == CT.CONSTR_GENERATED:
            col.generated = con.generated_kind if con.generated_kind in ("s", "v") else "s"
        elif ct in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_CHECK, CT.CONSTR_FOREIGN):
            if ct == CT.CONSTR_FOREIGN and not con.fk_attrs:
                con.fk_attrs = (ast.String(sval=col.name),)
            add_constraint(catalog, rel, con, default_columns=(col.name,))
    return col


def owned_sequence(catalog: Catalog, rel: Relation, column: str) -> str:
    """The sequence PostgreSQL creates for a serial or identity column, owned by the column."""
    seq = f"{rel.name}_{column}_seq"
    seq_rel = new_relation(catalog, seq, "sequence")
    own(catalog, seq_rel, rel.name, column)
    return seq


def own(catalog: Catalog, seq: Relation, table: str | None, column: str | None) -> None:
    """OWNED BY: the sequence goes with the column (dropped with it, locked with its table)."""
    old = catalog.get(seq.owned_by) if seq.owned_by else None
    if old is not None and seq.name in old.owned_sequences:
        old.owned_sequences.remove(seq.name)
    seq.owned_by, seq.owned_by_column = table, column
    new = catalog.get(table) if table else None
    if new is not None and seq.name not in new.owned_sequences:
        new.changeable("owned_sequences").append(seq.name)


def owned_by_option(catalog: Catalog, seq: Relation, options) -> None:
    for opt in options or ():
        if opt.defname == "owned_by":
            names = [strval(n) for n in opt.arg]
            if names == ["none"]:
                own(catalog, seq, None, None)
            elif len(names) >= 2:
                own(catalog, seq, catalog.qualify(names[-3] if len(names) > 2 else None, names[-2]), names[-1])


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


def add_constraint(catalog: Catalog, rel: Relation, con: ast.Constraint, default_columns=()) -> None:
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
        constraint.references = relation_name(catalog, con.pktable)
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
        catalog.indexes[index_name] = Index(index_name, rel.name, columns, unique=kind != "x",
                                             created_in=catalog.migration, tablespace=con.indexspace or "pg_default")
        if index_name not in rel.indexes:
            rel.changeable("indexes").append(index_name)
        constraint.index = index_name
    rel.changeable("constraints")[name] = constraint
    note_constraint(catalog, rel.name, name)


def makes_cycle(catalog, parent: str, child: str) -> bool:
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
