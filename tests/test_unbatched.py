"""MS033 unbatched data change: what it flags, how sizes weigh it, and on a real server that
the statements it flags hold row locks on every row they touch while the batches it passes
hold only their own."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.sizes import TableSize, Thresholds, apply_sizes
from pgtruth import connect, scratch_database
from rowlocks import rows_locked

SETUP = """CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new', note text);
INSERT INTO orders SELECT g, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'new' END, NULL FROM generate_series(1, 3000) AS g;
"""


def findings(tmp_path, sql: str, config: Config | None = None, stats=None):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(sql)
    report = run([str(tmp_path)], config or Config(lock_timeout="2s"))
    if stats is not None:
        apply_sizes(report, stats, Thresholds())
    return [(f.line, f.rule, f.severity) for f in report.all_findings() if Path(f.path).name == "002_change.sql"]


@pytest.mark.parametrize("sql", [
    "UPDATE orders SET note = 'x';",
    "UPDATE orders SET note = 'x' WHERE status = 'paid';",
    "UPDATE orders SET note = 'x' WHERE id > 10;",  # one bound: still most of the table
    "DELETE FROM orders WHERE note IS NULL;",
    "CREATE TABLE o2 AS SELECT * FROM orders;",
    "WITH d AS (DELETE FROM orders WHERE status = 'paid' RETURNING *) SELECT count(*) FROM d;",
])
def test_flags_whole_table_changes(tmp_path, sql):
    assert findings(tmp_path, sql) == [(1, "MS033", "warning")]


@pytest.mark.parametrize("sql", [
    "UPDATE orders SET note = 'x' WHERE id = 7;",
    "UPDATE orders SET note = 'x' WHERE id >= 1 AND id < 1001;",
    "UPDATE orders SET note = 'x' WHERE 1000 < id AND id <= $1;",
    "UPDATE orders SET note = 'x' WHERE id = ANY ('{1,2,3}');",
    "UPDATE orders SET note = 'x' WHERE (id, status) >= (1, 'a') AND (id, status) < (1001, 'a');",
    "DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE note IS NULL LIMIT 500);",
    "INSERT INTO orders (id) SELECT 5000 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = 5000);",
    "SELECT setval('s', (SELECT max(id) FROM orders));",
    # A temporary copy writes no WAL and reaches no replica: only a read, outside any strong lock.
    "CREATE TEMP TABLE pending AS SELECT id FROM orders WHERE note IS NULL;",
    "SELECT id INTO TEMP pending FROM orders WHERE note IS NULL;",
])
def test_passes_one_row_or_one_batch(tmp_path, sql):
    assert findings(tmp_path, sql) == []


def test_sizes_lower_small_tables_and_raise_large_ones_only_under_a_strong_lock(tmp_path):
    small = {"public.orders": TableSize(rows=300)}
    large = {"public.orders": TableSize(rows=50_000_000)}
    update = "UPDATE orders SET note = 'x';"
    assert findings(tmp_path, update, stats=small) == [(1, "MS033", "info")]
    assert findings(tmp_path, update, stats=large) == [(1, "MS033", "warning")]
    # The transaction already blocks writes on orders (a plain index build): now an outage.
    under_lock = "BEGIN;\nCREATE INDEX orders_note ON orders (note);\nUPDATE orders SET note = 'x';\nCOMMIT;"
    found = findings(tmp_path, under_lock, stats=large)
    assert (3, "MS033", "error") in found


def test_a_backfill_under_the_ddl_lock_is_ms030_alone(tmp_path):
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN c text;\nUPDATE orders SET c = 'x';\nCOMMIT;"
    assert [rule for line, rule, _ in findings(tmp_path, sql) if line == 3] == ["MS030"]
    assert [rule for line, rule, _ in findings(tmp_path, sql, Config(lock_timeout="2s", ignore=["MS030"]))
            if line == 3] == []


@pytest.mark.parametrize("change", [
    "UPDATE orders SET c = 'x'",
    "WITH u AS (UPDATE orders SET c = 'x' RETURNING id) SELECT count(*) FROM u",
    # Joined to one batch, yet the whole transaction holds the DDL lock: still MS030.
    "WITH batch AS (SELECT id FROM orders LIMIT 1000), u AS (UPDATE orders o SET c = 'x' FROM batch b "
    "WHERE o.id = b.id RETURNING o.id) SELECT count(*) FROM u",
    "WITH moved AS (DELETE FROM orders WHERE status = 'paid' RETURNING id) INSERT INTO done SELECT id FROM moved",
])
def test_a_backfill_in_a_with_under_the_ddl_lock_is_ms030_alone(tmp_path, change):
    sql = f"CREATE TABLE done (id bigint);\nBEGIN;\nALTER TABLE orders ADD COLUMN c text;\n{change};\nCOMMIT;"
    assert [rule for line, rule, _ in findings(tmp_path, sql) if line == 4] == ["MS030"]


def test_with_query_names_are_not_copied_tables(tmp_path):
    (tmp_path / "001_setup.sql").write_text(SETUP + "CREATE TABLE queue (id bigint);\n")
    (tmp_path / "002_change.sql").write_text("WITH paid AS (SELECT * FROM orders WHERE status = 'paid'), "
                                             "ids AS (SELECT DISTINCT id FROM paid) INSERT INTO queue SELECT id FROM ids;")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    [finding] = [f for f in report.all_findings() if Path(f.path).name == "002_change.sql"]
    assert finding.rule == "MS033"
    assert "copies live table public.orders into public.queue" in finding.message
    [analysed] = report.results[-1].statements
    assert {l.relation: l.mode for l in analysed.impact.locks} == {
        "public.orders": "AccessShareLock", "public.queue": "RowExclusiveLock"}


def test_a_delete_without_where_is_ms028_alone(tmp_path):
    """The data loss is the finding (MS028, an error); batching the DELETE would lose the same
    rows, so MS033 does not report it as well, inside a WITH too."""
    assert findings(tmp_path, "DELETE FROM orders;") == [(1, "MS028", "error")]
    assert findings(tmp_path, "DELETE FROM orders WHERE status = 'paid';") == [(1, "MS033", "warning")]
    moved = "WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone;"
    assert findings(tmp_path, moved) == [(1, "MS028", "error")]


@pytest.mark.parametrize("update, written", [
    ("UPDATE orders SET note = 'was ' || status WHERE status = 'paid'", ("'was ' || status", "status = 'paid'")),
    # Commas, an = and WHERE inside parentheses and strings, and a comment, are not cuts; the
    # user's own spelling is kept.
    ("UPDATE orders SET note = concat('was ', /* why */ status, '') -- why\n, status = (SELECT 'paid' WHERE true)\n"
     "  WHERE status IN ('paid', 'x=1, WHERE') AND id = id RETURNING id",
     ("concat('was ', /* why */ status, '')", "status IN ('paid', 'x=1, WHERE') AND id = id")),
])
def test_the_fix_is_a_batched_backfill_that_does_what_the_update_did(tmp_path, pg_servers, update, written):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(update + ";\n")
    (finding,) = [f for f in run([str(tmp_path)], Config(lock_timeout="2s")).all_findings() if f.rule == "MS033"]
    body = finding.fix[finding.fix.index("DO $backfill$"):]
    assert all(text in body for text in written), body
    server = next(s for s in pg_servers if s.major == 18)
    with scratch_database(server.uri) as scratch, connect(scratch.conninfo) as conn:
        for statement in SETUP.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(body)
        counts = conn.execute("SELECT count(*) FILTER (WHERE note = 'was paid'), count(*) FILTER (WHERE note IS NULL)"
                              " FROM orders").fetchone()
    assert counts == (1000, 2000)


UNBATCHED = "UPDATE orders SET note = 'x' WHERE status = 'paid'"
BATCH = "UPDATE orders SET note = 'x' WHERE id >= 1 AND id < 101"


def test_observed_row_locks_match_what_ms033_says(pg_server, tmp_path):
    setup = [s for s in SETUP.split(";\n") if s.strip()]
    assert findings(tmp_path, UNBATCHED + ";") == [(1, "MS033", "warning")]
    assert findings(tmp_path, BATCH + ";") == []
    try:
        locked, total = rows_locked(pg_server.uri, setup, UNBATCHED, "public.orders")
        batch_locked, _ = rows_locked(pg_server.uri, setup, BATCH, "public.orders")
    except psycopg.Error as err:  # a harness failure is a failure, with the server's words
        pytest.fail(f"pg{pg_server.major}: {err}")
    assert (locked, total) == (1000, 3000)  # every matching row, until commit
    assert batch_locked == 100


def test_a_temporary_copy_under_an_exclusive_lock_is_a_long_read(tmp_path):
    sql = ("BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN extra int;\n"
           "CREATE TEMP TABLE pending AS SELECT id FROM orders;\nCOMMIT;\n")
    # A read, not a data change: MS034's, not MS033's.
    assert (4, "MS034", "warning") in findings(tmp_path, sql)
    assert (4, "MS033", "warning") not in findings(tmp_path, sql)



ROW_CHANGES = [
    ("UPDATE orders SET note = 'x' WHERE status = 'paid'", 1000),
    ("DELETE FROM orders WHERE id <= 10", 10),
    ("WITH d AS (DELETE FROM orders WHERE id <= 5 RETURNING id) SELECT count(*) FROM d", 5),
]


@pytest.mark.parametrize("statement, rows", ROW_CHANGES)
def test_the_lock_line_of_a_row_change_says_its_rows_stay_locked(pg_server, tmp_path, statement, rows):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(f"BEGIN;\nALTER TABLE orders ADD COLUMN extra int;\n{statement};\nCOMMIT;\n")
    report = run([str(tmp_path)], Config(lock_timeout="2s", pg_version=pg_server.major))
    lines = {f.lock for f in report.all_findings() if f.line == 3 and f.lock.startswith("RowExclusiveLock")}
    assert lines == {"RowExclusiveLock on public.orders until commit — blocks CREATE INDEX, new foreign keys and "
                     "triggers, and ACCESS EXCLUSIVE DDL; not reads or writes, but the rows it changes stay locked "
                     "against other writers until commit"}
    setup = [s for s in SETUP.split(";\n") if s.strip()]
    try:
        locked, _ = rows_locked(pg_server.uri, setup, statement, "public.orders")
    except psycopg.Error as err:
        pytest.fail(f"pg{pg_server.major}: {err}")
    assert locked == rows


def test_an_insert_claims_no_row_locks_on_its_table(tmp_path):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(
        "BEGIN;\nALTER TABLE orders ADD COLUMN extra int;\nINSERT INTO orders (id) SELECT id + 5000 FROM orders;\nCOMMIT;\n")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    locks = [f.lock for f in report.all_findings() if f.line == 3]
    assert locks and not any("rows it changes" in lock for lock in locks)


@pytest.mark.parametrize("change, flagged", [
    ("DELETE FROM orders WHERE id IN (1, 2)", False),
    ("UPDATE orders SET note = 'x' WHERE id = ANY (ARRAY[3, 4, 5])", False),
    ("DELETE FROM orders WHERE id IN (" + ", ".join(str(n) for n in range(1, 102)) + ")", True),  # past FEW_ROWS
    ("DELETE FROM orders WHERE id NOT IN (1, 2)", True),
    ("DELETE FROM orders WHERE status IN ('new', 'paid')", True),  # no unique key
])
def test_a_short_list_on_a_unique_key_under_the_ddl_lock_is_no_backfill(tmp_path, change, flagged):
    sql = f"BEGIN;\nALTER TABLE orders ADD COLUMN c text;\n{change};\nCOMMIT;"
    rules = [rule for line, rule, _ in findings(tmp_path, sql) if line == 3]
    assert rules == (["MS030"] if flagged else [])


def test_a_backfill_under_the_ddl_lock_names_the_table_queries_wait_on(tmp_path):
    (tmp_path / "001_setup.sql").write_text(SETUP + "CREATE TABLE done (id bigint);\n")
    (tmp_path / "002_change.sql").write_text("BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE done ADD COLUMN c text;\n"
                                             "UPDATE orders SET note = 'x';\nCOMMIT;\n")
    report = run([str(tmp_path)], Config())
    (message,) = [f.message for f in report.all_findings() if f.rule == "MS030"]
    assert message.endswith("AccessExclusiveLock on public.done (line 3): every query on public.done waits for "
                            "the whole backfill")


LOOP = """DO $$
DECLARE
    rec RECORD;
    v_id bigint;
BEGIN
    FOR rec IN SELECT id, status FROM orders WHERE status = 'paid' LOOP
        v_id := rec.id;
        {update};
    END LOOP;
END $$;
"""


@pytest.mark.parametrize("update, flagged", [
    ("UPDATE orders SET note = 'x' WHERE id = rec.id", False),  # a loop record's field, as $1 would be
    ("UPDATE orders SET note = 'x' WHERE rec.id = id", False),
    ("UPDATE orders SET note = 'x' WHERE id = v_id", False),  # a declared variable
    ("DELETE FROM orders WHERE id = rec.id", False),
    ("UPDATE orders SET note = 'x' WHERE status = rec.status", True),  # fixed, but no key: every paid row
])
def test_a_do_block_variable_pins_a_key_as_a_parameter_does(tmp_path, update, flagged):
    found = [rule for _, rule, _ in findings(tmp_path, LOOP.format(update=update)) if rule == "MS033"]
    assert found == (["MS033"] if flagged else [])


def test_a_joined_tables_column_is_no_variable(tmp_path):
    sql = ("CREATE TABLE fresh (id bigint, note text);\n"
           "UPDATE orders SET note = f.note FROM fresh AS f WHERE orders.id = f.id;\n")
    assert (2, "MS033", "warning") in findings(tmp_path, sql)


def test_a_row_by_row_loop_under_the_ddl_lock_stays_ms030(tmp_path):
    sql = ("BEGIN;\nALTER TABLE orders ADD COLUMN extra int;\n"
           + LOOP.format(update="UPDATE orders SET note = 'x' WHERE id = rec.id") + "COMMIT;\n")
    assert [rule for _, rule, _ in findings(tmp_path, sql) if rule in ("MS030", "MS033")] == ["MS030"]
