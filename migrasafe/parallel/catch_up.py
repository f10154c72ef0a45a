"""Bring a catalog past a migration without judging it: what analyse.py does to the catalog,
and nothing else.

Judging a statement also runs the lock model and the rules, which read the catalog but never
change it; what changes it is `catalog.apply` of each statement (each of a DO block's), the
table a CREATE TABLE that did not parse still creates, and the migration and search_path the
catalog is told about as each migration starts. When judging a statement fails (MS088), it is
not applied; catching up cannot know that, so the caller does not trust a share caught up over
such a migration.
"""
from __future__ import annotations

from pglast import ast

from ..analyse import with_trees
from ..catalog import Catalog
from ..catalog.apply import apply
from ..catalog.unparsed import note_unparsed_create
from ..model import Migration


def catch_up(migration: Migration, catalog: Catalog) -> None:
    catalog.migration = migration.unit
    catalog.search_path = ["public"]
    for stmt in with_trees(migration.statements):
        node = stmt.node
        if node is None:
            note_unparsed_create(catalog, stmt.sql)
            continue
        block = _block(stmt) if isinstance(node, ast.DoStmt) else None
        if block is not None:
            for inner in block.statements:
                apply(catalog, inner.node)
        else:
            apply(catalog, node)
        stmt.release()


def _block(stmt):
    from ..doblocks import read_block

    return read_block(stmt)
