"""Locks on indexes, observed on every major: each statement runs in a transaction on a real
server, and the modes pg_locks shows on its existing indexes (by oid, so a renamed one keeps its
old name) and tables are what the lock model says. Then the claim the findings rest on, that an
AccessExclusiveLock on an index makes its table's queries wait, and the findings themselves.
"""
from __future__ import annotations

import contextlib
import itertools

import psycopg
import pytest
from pglast.parser import parse_sql

from migrasafe.catalog import Catalog
from migrasafe.catalog.apply import apply
from migrasafe.locks import impact
from pgtruth import scratch_database
from replay_helpers import ensure_tablespaces

SETUP = [
    "CREATE TABLE t (id int PRIMARY KEY, a int, b text, g int[], c text UNIQUE)",
    "CREATE INDEX t_a ON t (a)",
    "CREATE INDEX t_expr ON t ((a + 1))",
    "CREATE INDEX t_g ON t USING gin (g)",
    "CREATE INDEX t_brin ON t USING brin (a)",
    "CREATE INDEX t_hash ON t USING hash (b)",
    "CREATE TABLE p (id int, a int) PARTITION BY RANGE (id)",
    "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)",
    "CREATE INDEX p_a ON p (a)",
    "CREATE VIEW v AS SELECT a FROM t",
]

# Index -> what it is, so that the commands that only some kinds accept are generated for those.
INDEXES = {"t_a": "btree", "t_expr": "expression", "t_g": "gin", "t_brin": "brin", "t_hash": "hash",
           "t_pkey": "constraint", "t_c_key": "constraint", "p_a": "partitioned"}
OPTIONS = {"btree": ["fillfactor = 70", "deduplicate_items = off"], "constraint": ["fillfactor = 70"],
           "expression": ["fillfactor = 60"], "hash": ["fillfactor = 50"],
           "gin": ["fastupdate = off", "gin_pending_list_limit = 128"],
           "brin": ["pages_per_range = 64", "autosummarize = on"], "partitioned": []}

OPTION_SINCE = {"deduplicate_items": 13}


def _commands(index: str, kind: str) -> list[str]:
    out = [f"ALTER INDEX {index} SET TABLESPACE pg_default", f"ALTER TABLE {index} SET TABLESPACE pg_default",
           f"ALTER INDEX {index} RENAME TO {index}_renamed", f"ALTER TABLE {index} RENAME TO {index}_renamed"]
    for option in OPTIONS[kind]:
        out += [f"ALTER INDEX {index} SET ({option})", f"ALTER INDEX {index} RESET ({option.split()[0]})"]
    if len(OPTIONS[kind]) > 1:
        out.append(f"ALTER INDEX {index} SET ({', '.join(OPTIONS[kind])})")
    if kind == "expression":
        out.append(f"ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS 200")
    if kind != "partitioned":  # a partitioned index's owner follows its table's; REINDEX: not in a transaction
        out += [f"ALTER INDEX {index} OWNER TO CURRENT_USER", f"REINDEX INDEX {index}", f"ALTER INDEX {index} DEPENDS ON EXTENSION plpgsql"]
    if kind in ("btree", "constraint"):  # CLUSTER needs an index method that can order
        out.append(f"ALTER TABLE t CLUSTER ON {index}")
    return out


STATEMENTS = list(itertools.chain.from_iterable(_commands(i, k) for i, k in INDEXES.items())) + [
    "REINDEX TABLE t", "ALTER INDEX IF EXISTS gone SET TABLESPACE pg_default",
    "ALTER TABLE t ALTER COLUMN a SET STATISTICS 100", "ALTER TABLE t SET WITHOUT CLUSTER",
]

OBSERVED = """
SELECT c.oid, c.relkind::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relnamespace = 'public'::regnamespace
"""
NAMES = "SELECT oid, 'public.' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
LEVELS = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
          "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


def _strongest(modes: dict, name: str, mode: str) -> None:
    if name not in modes or LEVELS.index(mode) > LEVELS.index(modes[name]):
        modes[name] = mode


# One database per server holds SETUP; every statement runs in a transaction that is rolled back.
_PREPARED: dict[str, str] = {}
_OPEN = contextlib.ExitStack()  # the databases live as long as their servers


def _prepared(uri: str) -> str:
    conninfo = _PREPARED.get(uri)
    if conninfo is None:
        scratch = _OPEN.enter_context(scratch_database(uri))
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql)
        conninfo = _PREPARED[uri] = scratch.conninfo
    return conninfo


def _observe(uri: str, statement: str) -> tuple[dict, dict] | None:
    """({index: mode}, {table: mode}) on the relations that existed before; None if it fails."""
    with psycopg.connect(_prepared(uri)) as conn:
        names = dict(conn.execute(NAMES).fetchall())
        conn.commit()
        try:
            conn.execute(statement)
        except psycopg.Error:
            conn.rollback()
            return None
        indexes, tables = {}, {}
        for oid, kind, mode in conn.execute(OBSERVED).fetchall():
            if oid not in names:
                continue
            _strongest(indexes if kind in ("i", "I") else tables, names[oid], mode)
        conn.rollback()
    return indexes, tables


def _model(statement: str, major: int):
    catalog = Catalog()
    for sql in SETUP:
        apply(catalog, parse_sql(sql)[0].stmt)
    return impact(parse_sql(statement)[0].stmt, catalog, pg_version=major)


@pytest.mark.parametrize("statement", STATEMENTS)
def test_index_locks_are_those_the_server_takes(pg_server, statement):
    observed = _observe(pg_server.uri, statement)
    if " SET (" in statement and any(option in statement and pg_server.major < major
                                     for option, major in OPTION_SINCE.items()):
        assert observed is None, f"pg{pg_server.major} accepts {statement}"  # the option is newer
        return
    if observed is None:
        pytest.fail(f"pg{pg_server.major}: {statement} failed: the generated case is invalid")
    indexes, tables = observed
    imp = _model(statement, pg_server.major)
    assert {l.index: l.mode for l in imp.index_locks} == indexes, f"pg{pg_server.major}"
    assert {l.relation: l.mode for l in imp.locks} == {r: m for r, m in tables.items() if r != "public.v"}, \
        f"pg{pg_server.major}"
    for lock in imp.index_locks:
        assert lock.table in ("public.t", "public.p")


def test_unknown_index_is_named_without_a_table():
    imp = _model("ALTER INDEX elsewhere_idx SET TABLESPACE pg_default", 16)
    assert [(l.index, l.table, l.mode) for l in imp.index_locks] == [("public.elsewhere_idx", "", "AccessExclusiveLock")]


HOLDERS = ["ALTER INDEX t_a SET TABLESPACE pg_default", "ALTER TABLE t_a RENAME TO t_a2", "REINDEX INDEX t_a"]
WAITERS = ["SELECT * FROM t WHERE id = 1", "INSERT INTO t (id, a) VALUES (1000, 1)", "UPDATE t SET b = 'x' WHERE id = 2",
           "DELETE FROM t WHERE id = 3"]


@pytest.mark.parametrize("holder", HOLDERS)
def test_an_exclusive_index_lock_makes_the_tables_queries_wait(pg_server, holder):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql)
            conn.execute("INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 50) g")
        with psycopg.connect(scratch.conninfo) as holding:
            holding.execute(holder)
            waited = []
            for query in [*WAITERS, "ALTER INDEX t_hash SET (fillfactor = 60)"]:
                with psycopg.connect(scratch.conninfo) as other:
                    other.execute("SET lock_timeout = '100ms'")
                    try:
                        other.execute(query)
                    except psycopg.errors.LockNotAvailable:
                        waited.append(query)
                    other.rollback()
            holding.rollback()
    # Every query planned on the table waits; a change to another of its indexes does not.
    assert waited == WAITERS, f"pg{pg_server.major}"


def _findings(tmp_path, statements: str, fmt_setup: str = ""):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text(";\n".join(SETUP) + ";\n" + fmt_setup)
    (tmp_path / "002_change.sql").write_text(statements)
    report = run([str(tmp_path)], Config(cache=False))
    return [f for f in report.results[-1].all_findings()]


def test_moving_an_index_is_a_copy_under_an_exclusive_lock(tmp_path):
    found = _findings(tmp_path, "ALTER INDEX t_a SET TABLESPACE fast_ssd;\n")
    by_rule = {f.rule: f for f in found}
    assert by_rule["MS013"].message == (
        "SET TABLESPACE copies index public.t_a of live table public.t under AccessExclusiveLock on the index: "
        "every query planned on public.t waits for the whole copy")
    assert by_rule["MS013"].fix.startswith("REINDEX (TABLESPACE fast_ssd) INDEX CONCURRENTLY public.t_a;")
    assert by_rule["MS032"].severity == "warning"
    assert "every later query on public.t queues" in by_rule["MS032"].message


def test_index_moved_in_the_migration_that_made_it_is_not_flagged(tmp_path):
    found = _findings(tmp_path, "CREATE TABLE n (id int);\nCREATE INDEX n_id ON n (id);\n"
                                "ALTER INDEX n_id SET TABLESPACE fast_ssd;\n")
    assert [f.rule for f in found] == []


def test_index_moved_where_it_is_copies_nothing(tmp_path):
    found = _findings(tmp_path, "SET lock_timeout = '1s';\nALTER INDEX t_a SET TABLESPACE pg_default;\n"
                                "ALTER TABLE t_c_key SET TABLESPACE fast_ssd;\nALTER INDEX t_c_key SET TABLESPACE fast_ssd;\n")
    assert [(f.rule, f.line) for f in found] == [("MS013", 3)]


def test_renaming_an_index_with_alter_table_is_no_table_rename(tmp_path):
    found = _findings(tmp_path, "ALTER TABLE t_a RENAME TO t_a_new;\nALTER INDEX t_a_new RENAME TO t_a_newer;\n")
    assert [(f.rule, f.line) for f in found] == [("MS032", 1)]
    assert "AccessExclusiveLock on index public.t_a of live table public.t" in found[0].message


def test_light_index_changes_need_no_timeout(tmp_path):
    assert _findings(tmp_path, "ALTER INDEX t_a SET (fillfactor = 80);\nALTER INDEX t_a RENAME TO t_a2;\n"
                               "ALTER INDEX t_expr ALTER COLUMN 1 SET STATISTICS 100;\n") == []


def test_reindex_says_reads_wait(tmp_path):
    found = _findings(tmp_path, "SET lock_timeout = '1s';\nREINDEX INDEX t_a;\n")
    (reindex,) = [f for f in found if f.rule == "MS003"]
    assert reindex.message == ("REINDEX rebuilds index public.t_a of live table public.t under AccessExclusiveLock on "
                               "the index: the table's reads wait as well as its writes")


def test_the_fix_for_moving_an_index_runs(pg_server, tmp_path):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text(";\n".join(SETUP) + ";\n")
    (tmp_path / "002_change.sql").write_text("ALTER INDEX t_a SET TABLESPACE index_space;\n")
    report = run([str(tmp_path)], Config(cache=False, pg_version=pg_server.major))
    ensure_tablespaces(pg_server.uri, ["index_space"])
    (finding,) = [f for f in report.results[-1].all_findings() if f.rule == "MS013"]
    if pg_server.major < 14:
        assert finding.fix.startswith("-- CREATE INDEX CONCURRENTLY a copy of public.t_a")
        return
    fix = finding.fix.split("  --")[0]
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql)
            conn.execute(fix)  # refused in a transaction block: autocommit, as the fix says
            (space,) = conn.execute("SELECT spcname FROM pg_class JOIN pg_tablespace s ON s.oid = reltablespace "
                                    "WHERE relname = 't_a'").fetchone()
            assert space == "index_space"
