"""The name PostgreSQL gives a constraint the statement leaves unnamed.

ChooseConstraintName (CHECK, FOREIGN KEY) numbers the name (`_check1`, `_check2`, ...) while a
constraint of that name exists anywhere in the schema or among those the statement already
named; an index-backed one (PRIMARY KEY, UNIQUE, EXCLUDE) is named like its index, numbered
while a relation or a constraint of the schema has the name. Both cut the name to 63 bytes.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ConstrType as CT

from .names import choose_name, strval
from .state import Catalog

_LABELS = {CT.CONSTR_PRIMARY: "pkey", CT.CONSTR_UNIQUE: "key", CT.CONSTR_EXCLUSION: "excl",
           CT.CONSTR_CHECK: "check", CT.CONSTR_FOREIGN: "fkey"}


def unnamed_constraint_name(catalog: Catalog, table: str, con: ast.Constraint, column: str | None = None,
                            chosen=()) -> str | None:
    """`column`: the column whose definition holds the constraint, if any; `chosen`: the names
    this statement gave its earlier constraints. None when the name cannot be told."""
    if con.conname:
        return con.conname
    label = _LABELS.get(con.contype)
    if label is None:
        return None
    addition = _addition(con, column)
    if addition is None:
        return None
    schema, base = table.split(".", 1)
    prefix = schema + "."
    holders = _holders(catalog)

    def in_schema(name: str) -> bool:
        return name in chosen or any(
            qualified.startswith(prefix) and (rel := catalog.relations.get(qualified)) is not None
            and name in rel.constraints for qualified in holders.get(name, ()))

    if con.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN):
        return choose_name(base, addition, label, in_schema)
    return choose_name(base, addition, label, lambda name: f"{prefix}{name}" in catalog.indexes
                       or f"{prefix}{name}" in catalog.relations or in_schema(name))


# Constraint name → the relations that took a constraint of that name, kept beside the catalog
# (not one of its fields: neither cached nor compared) so that a name is looked up, not searched
# for in every table of the schema. An entry outlives its constraint or relation; a lookup checks
# that the relation still holds it. A relation renamed drops the whole map, made again when next
# needed.
_HOLDERS = "_constraint_holders"


def _holders(catalog: Catalog) -> dict[str, set[str]]:
    holders = catalog.__dict__.get(_HOLDERS)
    if holders is None:
        holders = catalog.__dict__[_HOLDERS] = {}
        for qualified, rel in catalog.relations.items():
            for name in rel.constraints:
                holders.setdefault(name, set()).add(qualified)
    return holders


def note_constraint(catalog: Catalog, relation: str, name: str) -> None:
    """A constraint of this name now exists on this relation."""
    holders = catalog.__dict__.get(_HOLDERS)
    if holders is not None:
        holders.setdefault(name, set()).add(relation)


def forget_holders(catalog: Catalog) -> None:
    """Relations changed names: the map is made again when next needed."""
    catalog.__dict__.pop(_HOLDERS, None)


def _addition(con: ast.Constraint, column: str | None) -> str | None:
    """The column part of the name, "" for none, None when unknown (an expression's)."""
    if con.contype == CT.CONSTR_PRIMARY:
        return ""
    if con.contype == CT.CONSTR_CHECK:
        from ..plan.expressions import column_refs

        # Named after the one column the expression reads, else after the table alone.
        columns = column_refs(con.raw_expr)
        return next(iter(columns)) if len(columns) == 1 else ""
    if con.contype == CT.CONSTR_EXCLUSION:
        columns = [element[0].name for element in con.exclusions or ()
                   if isinstance(element[0], ast.IndexElem) and element[0].name]
        return joined_names(columns) if columns and len(columns) == len(con.exclusions or ()) else None
    keys = con.fk_attrs if con.contype == CT.CONSTR_FOREIGN else con.keys
    columns = [strval(k) for k in keys or ()] or ([column] if column else [])
    return joined_names(columns) if columns else None


def joined_names(columns: list[str]) -> str:
    """ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: joined by "_", stopping
    once 63 bytes are reached."""
    out = ""
    for name in columns:
        out = f"{out}_{name}" if out else name
        if len(out) >= 64:
            break
    return out
