"""ALTER TYPE / ALTER DOMAIN ... RENAME TO: the columns of that type keep it under its new name.

The usual enum swap renames the old type away, creates a new one under the old name and moves
the column to it (ALTER COLUMN ... TYPE new USING col::text::new): told apart, the column's old
type is the renamed one, whose labels can be compared with the new type's.
"""
from __future__ import annotations

import copy

from pglast import ast
from pglast.enums.parsenodes import ObjectType as OT

from .names import dotted, shared_type
from .state import Catalog


def rename_type(catalog: Catalog, node: ast.RenameStmt, resolve) -> None:
    """`resolve`: an unqualified user type name → its qualified one, by search_path."""
    schema, name = dotted(node.object)
    old = f"{schema}.{name}" if schema else resolve(name)
    new = f"{old.split('.')[0]}.{node.newname}"
    if node.renameType == OT.OBJECT_DOMAIN or old in catalog.domains:
        domain = catalog.domains.pop(old, None)
        if domain is None:
            return
        domain.name = new
        catalog.domains[new] = domain
    else:
        enum = catalog.types.pop(old, None)
        if enum is None:
            return
        enum.name = new
        catalog.types[new] = enum
    for rel in catalog.relations.values():
        for col_name, col in list(rel.columns.items()):
            if col.type.name == old:
                moved = copy.copy(col)
                moved.type = shared_type(new, col.type.mods, col.type.array)
                rel.changeable("columns")[col_name] = moved
    for domain in catalog.domains.values():
        if domain.base.name == old:
            domain.base = shared_type(new, domain.base.mods, domain.base.array)
