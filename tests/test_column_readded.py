"""A column dropped and added again under its name (MS042). Added again as a stored generated
column, every row gets the expression's value, which PostgreSQL computes in the ADD's rewrite:
nothing is left empty, and only a column the running code could write before now refuses its
writes. Copied into another column first, the values outlive the DROP. Observed on every major
for the generated column, then the findings."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.config import Config
from pgtruth import scratch_database

GENERATED = "GENERATED ALWAYS AS (lower(body)) STORED"
# PostgreSQL 12 and 13 refuse the write with SQLSTATE 42601, later majors with 428C9.
REFUSED = (psycopg.errors.GeneratedAlways, psycopg.errors.SyntaxError)


def findings(tmp_path: Path, setup: str, sql: str):
    (tmp_path / "001_setup.sql").write_text(setup)
    (tmp_path / "002_change.sql").write_text(sql)
    report = run([str(tmp_path)], Config(lock_timeout="2s", cache=False))
    return [(f.line, f.rule, f.severity, f.message) for f in report.all_findings()
            if Path(f.path).name == "002_change.sql"]


def test_a_column_added_again_as_generated_holds_the_expression_and_refuses_writes(pg_server):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE logs (id int PRIMARY KEY, body text, search text)")
            conn.execute("INSERT INTO logs SELECT g, 'Row ' || g, 'kept ' || g FROM generate_series(1, 5) g")
            before = conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'logs'").fetchone()
            conn.execute("BEGIN")
            conn.execute("ALTER TABLE logs DROP COLUMN search")
            conn.execute(f"ALTER TABLE logs ADD COLUMN search text {GENERATED}")
            conn.execute("COMMIT")
            after = conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'logs'").fetchone()
            rows = conn.execute("SELECT count(*) FILTER (WHERE search = lower(body)) FROM logs").fetchone()
            assert rows == (5,), f"pg{pg_server.major}: every row holds the expression's value"
            assert before != after, f"pg{pg_server.major}: the ADD rewrites the table to fill it"
            with pytest.raises(REFUSED):
                conn.execute("INSERT INTO logs (id, body, search) VALUES (9, 'x', 'y')")
            with pytest.raises(REFUSED):
                conn.execute("UPDATE logs SET search = 'y'")


def test_a_generated_column_given_a_new_expression_empties_nothing(tmp_path):
    found = findings(tmp_path, f"CREATE TABLE logs (id int PRIMARY KEY, body text, search text {GENERATED});\n",
                     "ALTER TABLE logs DROP COLUMN search;\n"
                     "ALTER TABLE logs ADD COLUMN search text GENERATED ALWAYS AS (upper(body)) STORED;\n")
    assert [rule for _, rule, _, _ in found if rule == "MS042"] == []
    assert [(line, rule) for line, rule, _, _ in found if rule == "MS012"] == [(2, "MS012")]


def test_a_plain_column_made_generated_breaks_the_writers_not_the_readers(tmp_path):
    found = findings(tmp_path, "CREATE TABLE logs (id int PRIMARY KEY, body text, search text);\n",
                     f"ALTER TABLE logs DROP COLUMN search, ADD COLUMN search text {GENERATED};\n")
    assert [(severity, m) for _, rule, severity, m in found if rule == "MS042"] == [
        ("error", "dropping public.logs.search and adding it again in the same statement as a generated column "
                  "replaces the values stored in it with the expression's, and the running code's INSERTs and "
                  "UPDATEs that write search start failing: a generated column cannot be written")]


def test_a_column_copied_away_before_it_is_dropped_keeps_its_values(tmp_path):
    setup = "CREATE TABLE queries (id int PRIMARY KEY, schedule varchar(10));\n"
    change = ("BEGIN;\nALTER TABLE queries ADD COLUMN old_schedule varchar(10);\n"
              "UPDATE queries SET old_schedule = queries.schedule;\n"
              "ALTER TABLE queries DROP COLUMN schedule;\n"
              "ALTER TABLE queries ADD COLUMN schedule text DEFAULT '{}' NOT NULL;\nCOMMIT;\n")
    found = findings(tmp_path, setup, change)
    assert [(line, severity, m) for line, rule, severity, m in found if rule == "MS042"] == [
        (4, "warning", "dropping public.queries.schedule and adding it again on line 5 replaces the column under "
                       "the running code: its values were copied into old_schedule on line 3 first, so they are "
                       "kept, but schedule holds the new default in every existing row until they are written "
                       "back, and its type changes from varchar(10) to text under the running code, which still "
                       "reads and writes schedule")]
    # Without the copy, the values are gone.
    found = findings(tmp_path, setup, "ALTER TABLE queries DROP COLUMN schedule;\n"
                                      "ALTER TABLE queries ADD COLUMN schedule text DEFAULT '{}' NOT NULL;\n")
    assert [(severity, "destroys every value" in m) for _, rule, severity, m in found if rule == "MS042"] == [
        ("error", True)]
