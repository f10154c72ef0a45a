"""The observer itself, checked against well-known PostgreSQL behaviour on every installed major."""
from __future__ import annotations

import psycopg
import pytest

from pgtruth import Observation, observe

SETUP = [
    "CREATE TABLE t (id int PRIMARY KEY, a int, v varchar(100))",
    "INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 100) g",
    "CREATE TABLE p (id int PRIMARY KEY)",
    "CREATE TABLE c (id int, p_id int)",
]
# One replay per server; each statement sees the committed effects of the ones before it.
SCENARIO = {
    "index": "CREATE INDEX t_a_idx ON t (a)",
    "int_to_bigint": "ALTER TABLE t ALTER COLUMN a TYPE bigint",
    "widen_varchar": "ALTER TABLE t ALTER COLUMN v TYPE varchar(200)",
    "foreign_key": "ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id)",
    "index_concurrently": "CREATE INDEX CONCURRENTLY t_v_idx ON t (v)",
    "vacuum": "VACUUM t",
    "not_null_on_rows": "ALTER TABLE t ADD COLUMN n int NOT NULL",
    "new_table": "CREATE TABLE fresh (id int)",
    "drop_index_concurrently": "DROP INDEX CONCURRENTLY t_v_idx",
}
_replays: dict[str, dict[str, Observation]] = {}


@pytest.fixture
def seen(pg_server) -> dict[str, Observation]:
    if pg_server.uri not in _replays:
        observations = observe(pg_server.uri, SETUP, list(SCENARIO.values()))
        _replays[pg_server.uri] = dict(zip(SCENARIO, observations))
    return _replays[pg_server.uri]


def test_create_index_takes_share_lock(seen):
    o = seen["index"]
    assert (o.locks, o.rewrites, o.error, o.transactional) == ({"public.t": "ShareLock"}, set(), None, True)


def test_int_to_bigint_rewrites_under_access_exclusive(seen):
    o = seen["int_to_bigint"]
    assert o.locks == {"public.t": "AccessExclusiveLock"}
    assert o.rewrites == {"public.t"}


def test_widening_varchar_does_not_rewrite(seen):
    o = seen["widen_varchar"]
    assert o.locks == {"public.t": "AccessExclusiveLock"}
    assert o.rewrites == set()


def test_foreign_key_locks_both_tables(seen):
    o = seen["foreign_key"]
    assert o.locks == {"public.c": "ShareRowExclusiveLock", "public.p": "ShareRowExclusiveLock"}
    assert o.all_modes["public.c"] >= {"ShareRowExclusiveLock"}


def test_create_index_concurrently_is_seen_from_outside(seen):
    o = seen["index_concurrently"]
    assert (o.transactional, o.error) == (False, None)
    assert o.locks == {"public.t": "ShareUpdateExclusiveLock"}
    assert o.rewrites == set()


def test_vacuum_takes_share_update_exclusive(seen):
    o = seen["vacuum"]
    assert (o.transactional, o.error) == (False, None)
    assert o.locks == {"public.t": "ShareUpdateExclusiveLock"}


def test_vacuum_asks_for_access_exclusive_to_truncate_an_empty_tail(pg_server):
    setup = ["CREATE TABLE d (id int)", "INSERT INTO d SELECT generate_series(1, 1000)", "DELETE FROM d WHERE id > 500"]
    [o] = observe(pg_server.uri, setup, ["VACUUM d"])
    assert o.locks == {"public.d": "AccessExclusiveLock"}
    assert o.all_modes["public.d"] >= {"ShareUpdateExclusiveLock", "AccessExclusiveLock"}


def test_failing_statement_records_error_and_nothing_else(seen):
    o = seen["not_null_on_rows"]
    assert o.error is not None and o.error.startswith("23502")
    assert (o.locks, o.all_modes, o.rewrites) == ({}, {}, set())


def test_relations_created_by_the_statement_are_not_reported(seen):
    assert seen["new_table"].locks == {}


def test_later_statements_see_earlier_ones_committed(seen):
    o = seen["drop_index_concurrently"]
    assert (o.transactional, o.error) == (False, None)
    assert o.locks == {"public.t": "ShareUpdateExclusiveLock"}


@pytest.mark.parametrize("timezone, rewritten", [("UTC", set()), ("America/New_York", {"public.e"})])
def test_timestamp_to_timestamptz_rewrites_unless_session_is_utc(pg_server, timezone, rewritten):
    [o] = observe(pg_server.uri, ["CREATE TABLE e (at timestamp)", "INSERT INTO e VALUES (now())"],
                  ["ALTER TABLE e ALTER COLUMN at TYPE timestamptz"], timezone=timezone)
    assert o.locks == {"public.e": "AccessExclusiveLock"}
    assert o.rewrites == rewritten


def test_detach_concurrently_shows_its_exclusive_second_phase(pg_server):
    setup = [
        "CREATE TABLE m (k int) PARTITION BY RANGE (k)",
        "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10)",
        "CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (10) TO (20)",
    ]
    [o] = observe(pg_server.uri, setup, ["ALTER TABLE m DETACH PARTITION m2 CONCURRENTLY"])
    if pg_server.major < 14:
        # DETACH PARTITION CONCURRENTLY exists from PostgreSQL 14: before, it is a syntax error.
        assert o.error is not None and o.error.startswith("42601"), o.error
        return
    assert (o.transactional, o.error) == (False, None)
    assert o.locks == {"public.m": "ShareUpdateExclusiveLock", "public.m2": "AccessExclusiveLock"}


def test_a_reused_scratch_database_is_as_new(pg_server):
    """Scratch databases are emptied and reused: nothing of one case may reach the next."""
    from pgtruth import connect, scratch_database

    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
        conn.execute("CREATE SCHEMA app; CREATE TABLE app.t (id int); CREATE TYPE mood AS ENUM ('a');"
                     "CREATE TABLE t (m mood); CREATE VIEW v AS SELECT * FROM t; CREATE EXTENSION IF NOT EXISTS plpgsql;"
                     "COMMENT ON SCHEMA public IS 'changed'; REVOKE ALL ON SCHEMA public FROM PUBLIC")
        first = scratch.name
    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
        assert scratch.name == first
        left = conn.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')").fetchone()[0]
        schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                                              "AND nspname <> 'information_schema'")]
        assert (left, schemas) == (0, ["public"])
        # The public schema is back as template0 has it: anyone may use it.
        assert conn.execute("SELECT has_schema_privilege('public', 'public', 'USAGE')").fetchone()[0]
    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
        conn.execute(f"ALTER DATABASE {scratch.name} SET work_mem = '8MB'")
    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                            "WHERE d.datname = current_database()").fetchone()[0] == 0
