"""Snapshots of a live PostgreSQL database's schema, read from its catalog, and their differences.

    import psycopg
    from migrasafe.snapshot import take_snapshot, diff

    with psycopg.connect(url) as conn:
        before = take_snapshot(conn)
    ...  # migrate up, down and up again
    with psycopg.connect(url) as conn:
        after = take_snapshot(conn)
    for difference in diff(before, after, labels=("the first upgrade", "the second upgrade")):
        print(difference.message)  # "index public.t_a_idx is only in the second upgrade"

``take_snapshot(conn, *, schemas=None, ignore_bookkeeping=True) -> Snapshot`` reads PostgreSQL
12 to 18 (psycopg 3 connection) with SELECTs only: tables (partitioned, partition bounds,
inheritance, UNLOGGED, row level security, options), columns (type, default, nullability,
identity, generated expression, collation), constraints, indexes (definition, validity),
sequences (type, bounds, increment, cache, cycle, owner), views and materialized views,
functions, procedures and aggregates (arguments, result, language, volatility, strictness,
security, parallel safety, settings, an md5 of the body), triggers, enums (values in order),
domains, composite and range types, extensions and table grants (other than the owner's own).
System and temporary schemas and extensions' members are left out; `schemas` keeps only the
schemas named; the migration tools' bookkeeping tables and schemas (bookkeeping.py) are left out
unless `ignore_bookkeeping` is false.

Not compared: owners, comments, column order, statistics, policies, column and function
grants, default privileges, event triggers, rules other than views', whitespace in function bodies.

A ``Snapshot`` holds ``objects``: ``{(kind, identity): SchemaObject}``, where the identity is
stable across databases (``public.orders.note``, ``orders_pkey on public.orders``, never an
OID) and ``SchemaObject.attributes`` are display strings. ``diff(before, after, labels)``
returns ``Difference`` records (kind, identity, change = removed | added | changed, attribute,
before, after, message) in a stable order; ``Difference.to_json()`` and
``Snapshot.to_json()`` give plain data.
"""
from __future__ import annotations

from .bookkeeping import BOOKKEEPING_SCHEMAS, BOOKKEEPING_TABLES
from .diff import Difference, diff
from .model import KINDS, SchemaObject, Snapshot
from .read import take_snapshot

__all__ = ["BOOKKEEPING_SCHEMAS", "BOOKKEEPING_TABLES", "KINDS", "Difference", "SchemaObject", "Snapshot", "diff",
           "take_snapshot"]
