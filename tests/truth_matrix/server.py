"""What a real server does for each case of one context, observed in one batch.

The context's setup runs once in a scratch database; each case then runs in ``BEGIN ...
ROLLBACK`` on one connection, so the next case sees the context unchanged. Recorded per case:
the backend's relation locks (pg_locks), the relations whose relfilenode changed (rewrites),
the relations that appeared or disappeared (pg_class) and the tables whose columns changed
(pg_attribute). A statement PostgreSQL refuses inside a transaction block is observed afterwards,
in autocommit on a copy of the database taken before any case ran, while blockers make it
pause at each lock it asks for (see concurrent.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from pglast import ast
from pglast.parser import parse_sql
from psycopg import sql as q

from pgtruth import (
    LOCKS_SQL, OBSERVED_KINDS, SNAPSHOT_SQL, Observation, Relation, ScratchDatabase, connect, describe,
    drop_database, record_locks, record_rewrites, scratch_database, snapshot,
)

from .concurrent import Connections, observe_outside_transaction

COLUMNS_SQL = r"""
SELECT n.nspname || '.' || c.relname, a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


# What a case left behind, read in one round trip: its locks, pg_class, pg_attribute.
AFTER_SQL = ";\n".join([LOCKS_SQL.replace("%s", "{pid}"), SNAPSHOT_SQL.replace("{", "{{").replace("}", "}}"),
                        COLUMNS_SQL])


@dataclass
class Seen:
    """One case as the server ran it. ``relations``/``columns`` are None when not observed."""

    observation: Observation
    relations_before: set[str] = field(default_factory=set)
    relations_after: set[str] | None = None
    columns_changed: dict[str, frozenset[str]] | None = None


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
                # Every case rolls back: each one starts from this same state.
                before, columns = snapshot(conn), table_columns(conn)
                relations = {r.name for r in before.values()}
                for statement in statements:
                    if writes_rows(statement):
                        # A session's cached plans (the foreign key checks') turn generic after
                        # five runs, and a generic plan locks partitions a custom one prunes:
                        # each data change starts in a session of its own, as a migration does.
                        with connect(scratch.conninfo) as fresh:
                            seen.append(_in_transaction(fresh, statement, before, columns))
                    else:
                        seen.append(_in_transaction(conn, statement, before, columns))
            # All on the pristine copy, one after the other: first those that leave the same
            # relations behind (VACUUM, REINDEX, CLUSTER), then those that change the schema
            # (CREATE INDEX, DROP INDEX, DETACH ... CONCURRENTLY), which no later one depends on.
            outside = sorted((i for i, s in enumerate(seen) if s is None), key=lambda i: schema_order(statements[i]))
            shared = Connections(pristine.conninfo)
            try:
                for index in outside:
                    seen[index] = Seen(observe_outside_transaction(pristine.conninfo, statements[index], shared))
            finally:
                shared.close()
        finally:
            drop_database(scratch.admin, pristine.name)
    return relations, seen


_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def writes_rows(statement: str) -> bool:
    """A data change, or a query (CREATE TABLE ... AS one) whose WITH holds one."""
    node = parse_sql(statement)[0].stmt
    if isinstance(node, ast.CreateTableAsStmt):
        node = node.query
    with_clause = getattr(node, "withClause", None)
    return isinstance(node, _WRITES) or any(isinstance(cte.ctequery, _WRITES)
                                            for cte in (with_clause.ctes if with_clause is not None else ()) or ())


def schema_order(statement: str) -> int:
    node = parse_sql(statement)[0].stmt
    kinds = (ast.VacuumStmt, ast.ReindexStmt, ast.ClusterStmt), (ast.IndexStmt,), (ast.DropStmt,)
    return next((order for order, kind in enumerate(kinds) if isinstance(node, kind)), len(kinds))


def _in_transaction(conn: psycopg.Connection, statement: str, before, columns_before) -> Seen | None:
    """One case in BEGIN ... ROLLBACK: three round trips (the statement, what it left, rollback)."""
    observation = Observation(sql=statement)
    try:
        try:
            conn.execute("BEGIN;\n" + statement)
        except psycopg.errors.ActiveSqlTransaction:
            return None
        except psycopg.Error as exc:
            observation.fail(describe(exc))
            return Seen(observation)
        cursor = conn.cursor()
        cursor.execute(AFTER_SQL.format(pid=int(conn.info.backend_pid)))
        record_locks(observation, before, cursor.fetchall())
        cursor.nextset()
        after = {oid: Relation(schema, relname, kind, filenode)
                 for oid, schema, relname, kind, filenode in cursor.fetchall() if kind in OBSERVED_KINDS}
        cursor.nextset()
        columns_after: dict[str, set[str]] = {}
        for table, column in cursor.fetchall():
            columns_after.setdefault(table, set()).add(column)
        record_rewrites(observation, before, after)
        return Seen(observation, {r.name for r in before.values()}, {r.name for r in after.values()},
                    changed_columns(columns_before, {t: frozenset(c) for t, c in columns_after.items()}))
    finally:
        conn.execute("ROLLBACK")
