"""What a real server does for each case of one context, observed in one batch.

The context's setup runs once in a scratch database; each case then runs in ``BEGIN ...
ROLLBACK`` on one connection, so the next case sees the context unchanged. Recorded per case:
the backend's relation locks (pg_locks), the relations whose relfilenode changed (rewrites),
the relations that appeared or disappeared (pg_class) and the tables whose columns changed
(pg_attribute). A statement PostgreSQL refuses inside a transaction block is observed afterwards,
as tests/pgtruth.py observes such statements: in autocommit on a copy of the database while
blockers make it pause at each lock it waits for.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql as q

from pgtruth import (
    LOCKS_SQL, Observation, ScratchDatabase, connect, describe, drop_database, observe_statement, record_locks,
    record_rewrites, scratch_database, snapshot,
)

COLUMNS_SQL = r"""
SELECT n.nspname || '.' || c.relname, a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


@dataclass
class Seen:
    """One case as the server ran it. ``relations``/``columns`` are None when not observed."""

    observation: Observation
    relations_before: set[str] = field(default_factory=set)
    relations_after: set[str] | None = None
    columns_changed: dict[str, frozenset[str]] | None = None


def relation_names(conn: psycopg.Connection) -> set[str]:
    return {r.name for r in snapshot(conn).values()}


def table_columns(conn: psycopg.Connection) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for table, column in conn.execute(COLUMNS_SQL).fetchall():
        out.setdefault(table, set()).add(column)
    return {t: frozenset(c) for t, c in out.items()}


def changed_columns(before: dict[str, frozenset[str]], after: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Tables present before and after whose column names differ: table -> columns after."""
    return {t: cols for t, cols in after.items() if t in before and before[t] != cols}


def observe_context(uri: str, setup: str, statements: list[str]) -> tuple[set[str], list[Seen]]:
    """The relations the setup leaves, and what each statement does on top of it."""
    with scratch_database(uri) as scratch:
        with connect(scratch.conninfo) as conn:
            conn.execute(setup)
        # Cases rolled back still leave dead row versions behind, which VACUUM would then cut
        # off the table's end: the statements observed outside a transaction get a pristine copy.
        pristine = ScratchDatabase(scratch.admin, scratch.server_uri, f"{scratch.name}_pristine")
        scratch.admin.execute(q.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            q.Identifier(pristine.name), q.Identifier(scratch.name)))
        try:
            seen: list[Seen | None] = []
            with connect(scratch.conninfo) as conn:
                relations = relation_names(conn)
                columns = table_columns(conn)
                for statement in statements:
                    seen.append(_in_transaction(conn, statement, columns))
            for index, statement in enumerate(statements):
                if seen[index] is None:
                    seen[index] = Seen(observe_statement(pristine, statement, []))
        finally:
            drop_database(scratch.admin, pristine.name)
    return relations, seen


def _in_transaction(conn: psycopg.Connection, statement: str, columns_before) -> Seen | None:
    observation = Observation(sql=statement)
    conn.execute("BEGIN")
    try:
        before = snapshot(conn)
        try:
            conn.execute(statement)
        except psycopg.errors.ActiveSqlTransaction:
            return None
        except psycopg.Error as exc:
            observation.fail(describe(exc))
            return Seen(observation)
        record_locks(observation, before, conn.execute(LOCKS_SQL, [conn.info.backend_pid]).fetchall())
        after = snapshot(conn)
        record_rewrites(observation, before, after)
        return Seen(observation, {r.name for r in before.values()}, {r.name for r in after.values()},
                    changed_columns(columns_before, table_columns(conn)))
    finally:
        conn.execute("ROLLBACK")
