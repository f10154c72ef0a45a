"""ALTER TABLE into the catalog, one subcommand at a time (apply.py's ALTER TABLE)."""
from __future__ import annotations

import copy

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ObjectType as OT

from .bounds import partition_bound
from .names import collation_of, is_volatile, type_spec
from .state import Catalog, Relation
from .tables import add_column, add_constraint, makes_cycle, owned_sequence, relation_name, user_type


def alter_table(catalog: Catalog, node: ast.AlterTableStmt) -> None:
    schema, name = node.relation.schemaname, node.relation.relname
    if node.objtype == OT.OBJECT_INDEX or catalog.index_in_place_of_table(schema, name):
        parent = catalog.indexes.get(catalog.qualify_index(schema, name))
        for cmd in node.cmds or ():
            if cmd.subtype == AT.AT_SetTableSpace and parent is not None:
                parent.tablespace = cmd.name
            if cmd.subtype == AT.AT_AttachPartition and parent is not None and parent.attached is not None:
                child = catalog.indexes.get(catalog.qualify_index(cmd.def_.name.schemaname, cmd.def_.name.relname))
                if child is not None and child.table not in parent.attached:
                    parent.attached.append(child.table)
        return
    rel = catalog.get(relation_name(catalog, node.relation))
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
    add_column(catalog, rel, cmd.def_)


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
        drop_index(catalog, name)


def _at_type(catalog, rel, cmd):
    col = rel.columns.get(cmd.name)
    if col:
        col.type = type_spec(cmd.def_.typeName, user_type(catalog))
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
    add_constraint(catalog, rel, cmd.def_)


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


def _at_attach(catalog, rel, cmd):
    child = relation_name(catalog, cmd.def_.name)
    if makes_cycle(catalog, rel.name, child):
        return
    if child not in rel.partitions:
        rel.changeable("partitions").append(child)
    if child in catalog.relations:
        catalog.relations[child].partition_of = rel.name
        if cmd.def_.bound is not None:
            catalog.relations[child].bound = partition_bound(cmd.def_.bound)


def _at_detach(catalog, rel, cmd):
    child = relation_name(catalog, cmd.def_.name)
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
            owned_sequence(catalog, rel, col.name)


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


def drop_index(catalog: Catalog, name: str) -> None:
    idx = catalog.indexes.pop(name, None)
    if idx and idx.table in catalog.relations:
        rel = catalog.relations[idx.table]
        if name in rel.indexes:
            rel.indexes.remove(name)


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
