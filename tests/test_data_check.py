"""`check --data-from DSN`: failures predicted from the rows of a real database, read-only.

One PostgreSQL 18 server for the module, with two databases of the same schema: `dirty`, whose
rows break every statement of the migration, and `clean`, whose rows break none. Expected
counts and keys are asked of the database with plain queries, not written down.
"""
from __future__ import annotations

import hashlib
import re

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

import migrasafe
from migrasafe import cli
from migrasafe.data_check import Options
from migrasafe.data_check.session import ProbeError, Session
from migrasafe.replay.backends import open_backend

SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric, note text, memo text,
                     amount text, big bigint, feeling mood, code text);
CREATE TABLE events (id int PRIMARY KEY, kind text, note text);
CREATE TABLE audit (at timestamptz DEFAULT now());
"""
DIRTY_ROWS = """
INSERT INTO customers SELECT i, 'c' || (i % 90) || '@x', CASE WHEN i % 10 = 0 THEN NULL ELSE 'n' || i END
  FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i,
  CASE WHEN i IN (7, 8) THEN 900 + i ELSE i % 100 + 1 END,
  CASE WHEN i IN (5, 6, 150) THEN -i ELSE i END,
  CASE WHEN i IN (2, 4) THEN NULL ELSE 'x' END,
  CASE WHEN i = 3 THEN NULL ELSE 'm' END,
  CASE WHEN i IN (9, 19) THEN 'abc' || i ELSE i::text END,
  CASE WHEN i = 11 THEN 5000000000 ELSE i END,
  CASE WHEN i % 50 = 0 THEN 'meh' ELSE 'happy' END::mood,
  CASE WHEN i = 12 THEN NULL ELSE 'k' || i END
  FROM generate_series(1, 200) i;
INSERT INTO events SELECT i, 'k' || (i % 5), CASE WHEN i % 10 = 3 THEN NULL ELSE 'n' END FROM generate_series(1, 20000) i;
INSERT INTO audit SELECT now() FROM generate_series(1, 3);
"""
CLEAN_ROWS = """
INSERT INTO customers SELECT i, 'c' || i || '@x', 'n' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, i % 100 + 1, i, 'x', 'm', i::text, i % 100, 'happy', 'k' || i FROM generate_series(1, 200) i;
INSERT INTO events SELECT i, 'k' || (i % 5), 'n' FROM generate_series(1, 20000) i;
"""
# Added by hand in the database, not by a migration: VALIDATE reads its definition there.
DATABASE_ONLY = ("ALTER TABLE orders ADD CONSTRAINT orders_big_small CHECK (big < 100) NOT VALID;"
                 "CREATE FUNCTION sneaky() RETURNS boolean LANGUAGE sql AS "
                 "'INSERT INTO audit DEFAULT VALUES RETURNING true';")

# One statement per line, so a finding's line names its case.
CHANGES = [
    ("not_null", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"),
    ("not_null_constraint", "ALTER TABLE orders ADD CONSTRAINT orders_memo_nn NOT NULL memo;"),
    ("check", "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0 AND note <> 'y');"),
    ("validate_check", "ALTER TABLE orders VALIDATE CONSTRAINT orders_big_small;"),
    ("foreign_key", "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers;"),
    ("unique", "CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (lower(email));"),
    ("primary_key", "ALTER TABLE customers DROP CONSTRAINT customers_pkey, ADD PRIMARY KEY (name);"),
    ("text_cast", "ALTER TABLE orders ALTER COLUMN amount TYPE integer USING amount::integer;"),
    ("overflow", "ALTER TABLE orders ALTER COLUMN big TYPE integer;"),
    ("rename_enum", "ALTER TYPE mood RENAME TO mood_old;"),
    ("new_enum", "CREATE TYPE mood AS ENUM ('happy', 'sad');"),
    ("enum", "ALTER TABLE orders ALTER COLUMN feeling TYPE mood USING feeling::text::mood;"),
    # audit has no primary key: its rows are named by ctid.
    ("add_not_null", "ALTER TABLE audit ADD COLUMN note text NOT NULL;"),
    # Backfilled first: the statement after the UPDATE meets no NULL.
    ("backfill", "UPDATE orders SET code = 'none' WHERE code IS NULL;"),
    ("backfilled", "ALTER TABLE orders ALTER COLUMN code SET NOT NULL;"),
    # A table the run creates holds no rows to probe.
    ("created", "CREATE TABLE coupons (id int PRIMARY KEY, code text);"),
    ("on_created", "ALTER TABLE coupons ALTER COLUMN code SET NOT NULL;"),
]
PREDICTED = {"not_null": "MS060", "not_null_constraint": "MS060", "check": "MS061", "validate_check": "MS061",
             "foreign_key": "MS062", "unique": "MS063", "primary_key": "MS064", "text_cast": "MS065",
             "overflow": "MS065", "enum": "MS066", "add_not_null": "MS067"}
DATA_RULES = [f"MS06{i}" for i in range(10)]


@pytest.fixture(scope="module")
def server():
    with open_backend("embedded", pg_version=18) as running:
        with psycopg.connect(running.admin_conninfo, autocommit=True) as conn:
            conn.execute("CREATE DATABASE dirty")
            conn.execute("CREATE DATABASE clean")
        for name, rows in (("dirty", DIRTY_ROWS), ("clean", CLEAN_ROWS)):
            with psycopg.connect(make_conninfo(running.admin_conninfo, dbname=name), autocommit=True) as conn:
                conn.execute(SCHEMA + rows + DATABASE_ONLY)
                conn.execute("ANALYZE")
        yield running


@pytest.fixture(scope="module")
def dirty(server):
    return make_conninfo(server.admin_conninfo, dbname="dirty")


@pytest.fixture(scope="module")
def clean(server):
    return make_conninfo(server.admin_conninfo, dbname="clean")


@pytest.fixture(scope="module")
def migrations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data-check") / "migrations"
    folder.mkdir()
    (folder / "V1__schema.sql").write_text(SCHEMA)
    (folder / "V2__changes.sql").write_text("\n".join(sql for _, sql in CHANGES) + "\n")
    return folder


def findings_by_case(report) -> dict[str, list]:
    lines = {i + 1: case for i, (case, _) in enumerate(CHANGES)}
    out: dict[str, list] = {case: [] for case, _ in CHANGES}
    for finding in migrasafe.api.findings(report):
        if finding.rule in DATA_RULES and finding.path.endswith("V2__changes.sql"):
            out[lines[finding.line]].append(finding)
    return out


def run(path, dsn, **options):
    return migrasafe.check([str(path)], data_from=dsn, data_options=Options(**options), select=DATA_RULES)


@pytest.fixture(scope="module")
def dirty_report(migrations, dirty):
    return findings_by_case(run(migrations / "V2__changes.sql", dirty))


def one(conn, sql):
    return conn.execute(sql).fetchone()


def predicted(found, case):
    (finding,) = found[case]
    assert finding.rule == PREDICTED[case] and finding.severity == "error", finding
    return finding


def count_and_key(message: str) -> tuple[int, str]:
    match = re.search(r"will fail on the data: ([\d,]+) rows? .*?, e\.g\. (\w+ = \S+)", message)
    assert match, message
    return int(match.group(1).replace(",", "")), match.group(2)


def test_every_case_is_predicted_with_its_count_and_a_key(dirty_report, dirty):
    with psycopg.connect(dirty) as conn:
        truth = {
            "not_null": one(conn, "SELECT count(*), min(id) FROM orders WHERE note IS NULL"),
            "not_null_constraint": one(conn, "SELECT count(*), min(id) FROM orders WHERE memo IS NULL"),
            "check": one(conn, "SELECT count(*), min(id) FROM orders WHERE NOT (total >= 0 AND note <> 'y')"),
            "validate_check": one(conn, "SELECT count(*), min(id) FROM orders WHERE NOT (big < 100)"),
            "foreign_key": one(conn, "SELECT count(*), min(o.id) FROM orders o LEFT JOIN customers c "
                                     "ON c.id = o.customer_id WHERE c.id IS NULL"),
            "primary_key": one(conn, "SELECT count(*), min(id) FROM customers WHERE name IS NULL"),
            "text_cast": one(conn, "SELECT count(*), min(id) FROM orders WHERE amount !~ '^[0-9]+$'"),
            "overflow": one(conn, "SELECT count(*), min(id) FROM orders WHERE big > 2147483647"),
            "enum": one(conn, "SELECT count(*), min(id) FROM orders WHERE feeling::text NOT IN ('happy', 'sad')"),
        }
        audit = one(conn, "SELECT count(*), min(ctid) FROM audit")
        duplicated = one(conn, "SELECT sum(n), count(*) FROM (SELECT count(*) n FROM customers "
                               "WHERE email IS NOT NULL GROUP BY lower(email) HAVING count(*) > 1) d")
        first_duplicate = one(conn, "SELECT min(id) FROM customers WHERE lower(email) = (SELECT min(lower(email)) "
                                    "FROM customers GROUP BY lower(email) HAVING count(*) > 1 ORDER BY 1 LIMIT 1)")
    for case, (count, key) in truth.items():
        assert count > 0
        finding = predicted(dirty_report, case)
        assert count_and_key(finding.message) == (count, f"id = {key}"), case
    unique = predicted(dirty_report, "unique")
    assert count_and_key(unique.message) == (duplicated[0], f"id = {first_duplicate[0]}")
    assert f"{duplicated[1]} duplicated values" in unique.message
    add_not_null = predicted(dirty_report, "add_not_null").message
    assert f"{audit[0]} rows are in the table, and note would be NULL in each, e.g. ctid {audit[1]}" in add_not_null


def test_messages_say_how_each_prediction_was_made(dirty_report):
    text_cast = predicted(dirty_report, "text_cast").message
    assert 'invalid input syntax for type integer: "abc9"' in text_cast and "pg_input_is_valid" in text_cast
    overflow = predicted(dirty_report, "overflow").message
    assert "integer out of range" in overflow and "cast one row at a time in savepoints, every row" in overflow
    enum = predicted(dirty_report, "enum").message
    assert "values not in mood: 'meh' (4)" in enum
    assert "reference rows missing from public.customers" in predicted(dirty_report, "foreign_key").message
    assert "(customer_id = 907)" in predicted(dirty_report, "foreign_key").message


def test_backfilled_and_created_tables_are_not_flagged(dirty_report):
    for case in ("backfill", "backfilled", "created", "on_created", "rename_enum", "new_enum"):
        assert dirty_report[case] == [], case


def test_clean_rows_predict_no_failure(migrations, clean):
    found = findings_by_case(run(migrations / "V2__changes.sql", clean))
    assert {case: f for case, f in found.items() if f} == {}


def test_whole_history_named_creates_every_table_so_nothing_is_probed(migrations, dirty):
    report = run(migrations, dirty)
    assert not [f for f in migrasafe.api.findings(report) if f.rule in DATA_RULES]


def write(folder, name, *statements):
    folder.mkdir(exist_ok=True)
    (folder / "V1__schema.sql").write_text(SCHEMA)
    (folder / name).write_text("\n".join(statements) + "\n")
    return folder / name


def test_sampled_table_scales_the_count_and_says_so(tmp_path, dirty):
    path = write(tmp_path / "m", "V2__events.sql", "ALTER TABLE events ALTER COLUMN note SET NOT NULL;",
                 "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;")
    report = run(path, dirty, sample_above=2000)
    by_line = {f.line: f for f in migrasafe.api.findings(report) if f.rule in DATA_RULES}
    nulls = by_line[1]
    assert nulls.rule == "MS060" and nulls.severity == "error"
    match = re.search(r"about ([\d,]+) rows \(([\d,]+) in a 10% TABLESAMPLE SYSTEM sample of about 20,000 rows\)",
                      nulls.message)
    assert match, nulls.message
    estimate, seen = (int(g.replace(",", "")) for g in match.groups())
    assert 0 < seen < 2000 and estimate == seen * 10  # 2,000 rows hold NULL in the whole table
    clean = by_line[2]
    assert clean.rule == "MS069" and clean.severity == "info"
    assert "no offending row in a 10% TABLESAMPLE SYSTEM sample" in clean.message


def test_a_probe_that_times_out_is_an_info_finding(tmp_path, dirty):
    path = write(tmp_path / "m", "V2__slow.sql",
                 "ALTER TABLE orders ADD CONSTRAINT orders_slow CHECK (length(pg_sleep(5)::text) = 0);")
    report = run(path, dirty, timeout=0.3)
    (finding,) = [f for f in migrasafe.api.findings(report) if f.rule in DATA_RULES]
    assert finding.rule == "MS068" and finding.severity == "info"
    assert "did not finish within 0.3s" in finding.message


def database_state(dsn) -> tuple:
    with psycopg.connect(dsn) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1")]
        contents = {t: hashlib.sha256(repr(conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()).encode())
                    .hexdigest() for t in tables}
        schema = conn.execute("SELECT conname, convalidated FROM pg_constraint ORDER BY 1").fetchall()
        types = conn.execute("SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace "
                             "ORDER BY 1").fetchall()
    return contents, schema, types


def write_counters(dsn) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
                            "WHERE datname = current_database()").fetchone()


def test_nothing_is_written(migrations, tmp_path, dirty):
    sneaky = write(tmp_path / "m", "V2__sneaky.sql", "ALTER TABLE orders ADD CONSTRAINT orders_sneaky CHECK (sneaky());")
    before, counters = database_state(dirty), write_counters(dirty)
    report = run(sneaky, dirty)
    run(migrations / "V2__changes.sql", dirty)
    (finding,) = [f for f in migrasafe.api.findings(report) if f.rule in DATA_RULES]
    assert finding.rule == "MS069" and "cannot execute INSERT in a read-only transaction" in finding.message
    assert database_state(dirty) == before
    # The sessions that ran the probes have ended, and a backend reports its counters as it exits.
    assert wait_for_counters(dirty, counters)


def wait_for_counters(dsn, counters, attempts: int = 20) -> bool:
    """The write counters are those of before, once the checks' sessions have reported theirs
    (they are flushed when a backend ends; a few polls of pg_stat_activity cover the gap)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(attempts):
            busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                "'migrasafe data check'").fetchone()[0]
            if not busy:
                break
            conn.execute("SELECT pg_sleep(0.05)")
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
                            "WHERE datname = current_database()").fetchone() == counters


def test_the_session_refuses_writes(dirty):
    with Session(dirty, 2000) as session:
        assert session.value("SHOW transaction_read_only") == "on"
        assert session.value("SHOW default_transaction_read_only") == "on"
        for write_sql in ("INSERT INTO audit DEFAULT VALUES", "CREATE TABLE intruder (a int)",
                          "SET TRANSACTION READ WRITE"):
            with pytest.raises(ProbeError, match="read-only|must be called before any query"):
                session.query(write_sql)
        assert session.value("SELECT count(*) FROM audit") == 3


def test_cli_prints_the_prediction_and_fails(migrations, dirty, capsys):
    code = cli.main(["check", str(migrations / "V2__changes.sql"), "--data-from", dirty, "--no-cache",
                     "--select", "MS060"])
    out = capsys.readouterr().out
    assert code == 1
    assert "MS060 not-null-violated-by-data [error]" in out
    assert "SET NOT NULL on public.orders.note will fail on the data: 2 rows hold NULL in note, e.g. id = 2" in out


def test_an_unreachable_database_is_a_usage_error(migrations, tmp_path, capsys):
    dsn = f"postgresql://nobody@/postgres?host={tmp_path}&connect_timeout=2"
    code = cli.main(["check", str(migrations / "V2__changes.sql"), "--data-from", dsn, "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("migrasafe: --data-from: ") and "Traceback" not in err


def test_bad_option_values_are_usage_errors(migrations, capsys):
    assert cli.main(["check", str(migrations), "--data-from", "x", "--data-timeout", "0"]) == 2
    assert "--data-timeout" in capsys.readouterr().err


def test_a_suppression_directive_silences_a_prediction(tmp_path, dirty):
    path = write(tmp_path / "m", "V2__suppressed.sql",
                 "-- migrasafe: ignore MS060 -- the NULL rows are deleted by a job before deploy",
                 "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
                 "ALTER TABLE orders ALTER COLUMN memo SET NOT NULL;")
    report = run(path, dirty)
    found = [(f.rule, f.line) for f in migrasafe.api.findings(report) if f.rule in DATA_RULES]
    assert found == [("MS060", 3)]
    (result,) = [r for r in report.results if not r.migration.meta.get("context")]
    assert result.migration.meta["suppressed"] == [{"rule": "MS060", "severity": "error", "line": 2, "by": "migrasafe"}]
    # Used by the data check, so not a stale suppression; nor is it one without --data-from, which cannot tell.
    assert not [f for f in migrasafe.api.findings(report) if f.rule == "MS092"]
    from migrasafe.check import run as plain_check
    from migrasafe.config import Config

    assert not [f for f in migrasafe.api.findings(plain_check([str(path)], Config())) if f.rule == "MS092"]


def test_the_rows_view_follows_the_run(tmp_path, dirty):
    path = write(tmp_path / "m", "V2__run.sql",
                 "DELETE FROM orders WHERE customer_id > 900;",
                 "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers;",
                 "ALTER TABLE orders RENAME COLUMN memo TO remark;",
                 "ALTER TABLE orders ALTER COLUMN remark SET NOT NULL;",
                 "ALTER TABLE orders ADD COLUMN kind text DEFAULT 'web', ALTER COLUMN kind SET NOT NULL;",
                 "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;",
                 "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;",
                 "CREATE TABLE shops (id int PRIMARY KEY);",
                 "ALTER TABLE orders ADD COLUMN shop_id int DEFAULT 1 REFERENCES shops;",
                 "DO $$ BEGIN UPDATE orders SET note = 'x' WHERE note IS NULL; END $$;",
                 "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
                 "DO $$ BEGIN EXECUTE 'UPDATE ' || 'orders SET code = 1'; END $$;",
                 "ALTER TABLE orders ADD CONSTRAINT orders_code CHECK (code IS NOT NULL);")
    report = run(path, dirty)
    found = {f.line: f for f in migrasafe.api.findings(report) if f.rule in DATA_RULES}
    with psycopg.connect(dirty) as conn:
        memo = one(conn, "SELECT count(*), min(id) FROM orders WHERE memo IS NULL AND customer_id <= 900")
        negative = one(conn, "SELECT count(*), min(id) FROM orders WHERE total <= 0 AND customer_id <= 900")
        kept = one(conn, "SELECT count(*), min(id) FROM orders WHERE customer_id <= 900")
    assert sorted(found) == [4, 7, 9, 11, 13]
    assert (found[4].rule, count_and_key(found[4].message)) == ("MS060", (memo[0], f"id = {memo[1]}"))
    assert (found[7].rule, count_and_key(found[7].message)) == ("MS061", (negative[0], f"id = {negative[1]}"))
    # shops is created by the run and never filled: every order would point at a missing shop.
    assert (found[9].rule, count_and_key(found[9].message)) == ("MS062", (kept[0], f"id = {kept[1]}"))
    # The DO block's UPDATE may fill the NULLs: the prediction is a warning that says why.
    assert found[11].rule == "MS060" and found[11].severity == "warning"
    assert "line 10 of the run changes rows of public.orders in a way the check cannot follow" in found[11].message
    # SQL built at run time may change any table.
    assert found[13].rule == "MS061" and found[13].severity == "warning" and "lines 10, 12 of the run" in found[13].message
