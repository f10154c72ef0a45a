"""When a partitioned table's new index can reuse the indexes its partitions already have.

CREATE INDEX on a partitioned table attaches, on each partition, an existing index that matches
the new one instead of building another; when every partition has one, "building the
partitioned index is a metadata only operation" (PostgreSQL docs, CREATE INDEX, "Notes" on
partitioned tables; DefineIndex() compares the candidates with CompareIndexInfo()). The
signature below is what the history shows of an index: only plain-column indexes without a
predicate get one, so an expression or partial index never counts as a match.
"""
from __future__ import annotations

from pglast import ast

from .names import strval
from .state import Catalog


def index_signature(node: ast.IndexStmt) -> tuple | None:
    """Method, uniqueness, and each key column with its opclass, collation and order; None when
    the index has expressions or a predicate, which the catalog cannot compare."""
    if node.whereClause is not None:
        return None
    keys = []
    for elem in node.indexParams or ():
        if not isinstance(elem, ast.IndexElem) or elem.name is None or elem.expr is not None:
            return None
        keys.append((elem.name, tuple(strval(n) for n in elem.opclass or ()),
                     tuple(strval(n) for n in elem.collation or ()), int(elem.ordering), int(elem.nulls_ordering)))
    include = tuple(strval(getattr(e, "name", e)) for e in node.indexIncludingParams or ())
    return ((node.accessMethod or "btree").lower(), bool(node.unique), bool(getattr(node, "nulls_not_distinct", False)),
            tuple(keys), include)


def partitions_already_indexed(catalog: Catalog, table: str, node: ast.IndexStmt) -> bool:
    """Every partition of `table` the history created has a valid index matching `node`, and no
    index of `table` itself has that definition already (its partition indexes are taken)."""
    wanted = index_signature(node)
    if wanted is None:
        return False
    leaves = [name for name in catalog.family(table)[1:] if (rel := catalog.get(name)) and rel.kind != "partitioned"]
    if not leaves or any(catalog.get(name).kind != "table" for name in leaves):
        return False
    own = [i for i in catalog.indexes.values() if i.table == table]
    if any(i.signature == wanted for i in own):
        return False
    return all(any(i.table == leaf and i.valid and i.signature == wanted for i in catalog.indexes.values())
               for leaf in leaves)
