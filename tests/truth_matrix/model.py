"""What the static model claims for each case, reached as the pipeline reaches it: the context's
setup replayed through migrasafe's own catalog, then ``migrasafe.locks.impact``, then the
statement applied to a copy of the catalog for the relations and columns it leaves."""
from __future__ import annotations

from dataclasses import dataclass

from migrasafe.catalog import Catalog
from migrasafe.catalog.apply import apply
from migrasafe.locks import impact
from migrasafe.parse import split_statements

MODEL_KINDS = {"table", "partitioned", "view", "matview", "sequence", "foreign"}


@dataclass
class Claim:
    locks: dict[str, str]
    rewrites: set[str]
    transactional: bool
    notes: dict
    relations_after: set[str]
    columns_changed: dict[str, frozenset[str]]


def catalog_of(setup: str) -> Catalog:
    catalog = Catalog()
    for statement in split_statements(setup):
        if statement.node is None:
            raise ValueError(f"setup does not parse: {statement.sql!r}: {statement.parse_error}")
        apply(catalog, statement.node)
    catalog.search_path = ["public"]
    return catalog


def relation_names(catalog: Catalog) -> set[str]:
    return {name for name, rel in catalog.relations.items() if rel.kind in MODEL_KINDS}


def table_columns(catalog: Catalog) -> dict[str, frozenset[str]]:
    return {name: frozenset(rel.columns) for name, rel in catalog.relations.items() if rel.is_table}


def claim(catalog: Catalog, sql: str, pg_version: int) -> Claim:
    (statement,) = split_statements(sql)
    if statement.node is None:
        raise ValueError(f"case does not parse: {sql!r}: {statement.parse_error}")
    before = catalog.copy()
    predicted = impact(statement.node, before, pg_version=pg_version)
    after = before.copy()
    apply(after, statement.node)
    old_columns, new_columns = table_columns(catalog), table_columns(after)
    return Claim(
        locks={lock.relation: lock.mode for lock in predicted.locks},
        rewrites=set(predicted.rewrites),
        transactional=predicted.transactional,
        notes=dict(predicted.notes),
        relations_after=relation_names(after),
        columns_changed={t: c for t, c in new_columns.items() if t in old_columns and old_columns[t] != c},
    )
