"""Bring a catalog past a migration, or part of one, without judging it: what analyse.py does to
the catalog and to the transaction state, and nothing else.

Judging a statement also runs the lock model and the rules, which read the catalog but never
change it; what changes it is `catalog.apply` of each statement (each of a DO block's), the
table a CREATE TABLE that did not parse still creates, and the migration and search_path the
catalog is told about as each migration starts. Within a migration the transaction state moves
on with BEGIN, COMMIT and SET (`TxState.control`); what else it records (locks held, tables
emptied, constraints added NOT VALID) lasts until the transaction ends, and a part only ever
starts outside one. When judging a statement fails (MS088), it is not applied; catching up
cannot know that, so the caller does not trust a share caught up over such a migration.

A statement that changes neither is passed over without building its tree: what its first word
says it is (split_statements starts a statement's text at its first token, and in PostgreSQL's
grammar each of these keywords begins one kind of statement only).
"""
from __future__ import annotations

from pglast import ast

from ..analyse import enter_migration, with_trees
from ..catalog import Catalog
from ..catalog.apply import apply
from ..catalog.unparsed import note_unparsed_create
from ..model import Migration
from ..routines import note_created
from ..transaction import TxState


# Data changes and utility commands: no catalog.apply handler, no TxState.control effect.
_CHANGE_NOTHING = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COMMENT", "GRANT", "REVOKE", "TRUNCATE",
                             "ANALYZE", "ANALYSE", "VACUUM", "REFRESH", "NOTIFY", "CLUSTER", "REINDEX", "LOCK"})


def changes_something(sql: str) -> bool:
    """False for a statement that is one of _CHANGE_NOTHING by its first word (the longest is
    eight letters: nine characters hold it and what ends it)."""
    words = sql[:9].split(None, 1)
    return not words or words[0].upper() not in _CHANGE_NOTHING


def catch_up(migration: Migration, catalog: Catalog) -> None:
    """The whole migration (its transaction state ends with it)."""
    catalog.migration = migration.unit
    catalog.search_path = ["public"]
    for stmt in with_trees(migration.statements, needs_tree=changes_something):
        if changes_something(stmt.sql):
            _apply(stmt, catalog, None, migration.path)


def catch_up_part(migration: Migration, catalog: Catalog, tx: TxState, start: int, until: int | None) -> int:
    """The statements from `start` to the first from `until` on that runs outside a transaction
    (to the end when `until` is None or there is none); where it stopped. From `start` 0, `tx`
    is a new session's state."""
    statements = migration.statements
    if start == 0:
        catalog.migration = migration.unit
        catalog.search_path = ["public"]
        enter_migration(migration, tx)
    for position, stmt in enumerate(with_trees(statements, start, until, changes_something), start):
        if until is not None and position >= until and not tx.open:
            return position
        if changes_something(stmt.sql):
            _apply(stmt, catalog, tx, migration.path)
    return len(statements)


def _apply(stmt, catalog: Catalog, tx: TxState | None, path: str) -> None:
    node = stmt.node
    if node is None:
        note_unparsed_create(catalog, stmt.sql)
        return
    block = _block(stmt) if isinstance(node, ast.DoStmt) else None
    if block is None:
        if tx is not None:
            tx.control(node, stmt.line)
        apply(catalog, node)
        note_created(catalog, stmt, path)
    else:
        implicit = tx is not None and not tx.open
        if implicit:
            tx.begin(line=stmt.line, explicit=False)  # a DO outside a transaction is its own
        for inner in block.statements:
            if tx is not None:
                tx.control(inner.node, inner.line)
            apply(catalog, inner.node)
            note_created(catalog, inner, path)
        if implicit:
            tx.end()
    stmt.release()


def _block(stmt):
    from ..doblocks import read_block

    return read_block(stmt)
