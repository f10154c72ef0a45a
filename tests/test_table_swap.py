"""A table swapped for another in one transaction (DROP TABLE t, or RENAME t away, then a new
table RENAMEd to t before the commit) leaves the running code a table by the name it queries:
a query waiting on the old table's lock looks the name up again once it gets the lock, and a
prepared statement is planned again, both reaching the new table. Observed on every major;
then MS043 and MS041, which leave such a swap alone, and still report a drop or rename whose
gap a commit makes visible.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg

from migrasafe.check import run
from migrasafe.config import Config
from pgtruth import scratch_database

SETUP = ("CREATE TABLE events (id bigint PRIMARY KEY, payload text);\n"
         "CREATE TABLE other (id bigint PRIMARY KEY);\n")


def _waiting(conn: psycopg.Connection, pid: int) -> bool:
    row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == "Lock"


def test_a_query_waiting_through_a_swap_reads_the_new_table(pg_server):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as setup:
            setup.execute("CREATE TABLE events (id bigint PRIMARY KEY)")
            setup.execute("INSERT INTO events VALUES (1)")
            setup.execute("CREATE TABLE events_new (id bigint PRIMARY KEY)")
            setup.execute("INSERT INTO events_new VALUES (2)")
        with psycopg.connect(scratch.conninfo, autocommit=True) as app, \
                psycopg.connect(scratch.conninfo) as migration:
            app.execute("PREPARE q AS SELECT id FROM events")
            assert app.execute("EXECUTE q").fetchall() == [(1,)]
            pid = app.info.backend_pid
            migration.execute("DROP TABLE events")
            migration.execute("ALTER TABLE events_new RENAME TO events")
            seen: list = []
            reader = threading.Thread(target=lambda: seen.extend(app.execute("EXECUTE q").fetchall()))
            reader.start()
            with psycopg.connect(scratch.conninfo, autocommit=True) as watcher:
                deadline = time.monotonic() + 10
                while not _waiting(watcher, pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert _waiting(watcher, pid), "the application's query should wait for the swap's lock"
            migration.commit()
            reader.join(10)
            assert seen == [(2,)]
            assert app.execute("SELECT id FROM events").fetchall() == [(2,)]


def findings(tmp_path: Path, sql: str, name: str = "002_change.sql"):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / name).write_text(sql)
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    return [(f.line, f.rule) for f in report.all_findings() if Path(f.path).name == name]


def test_a_table_dropped_and_replaced_in_one_transaction_is_no_drop_for_the_running_code(tmp_path):
    found = findings(tmp_path, "BEGIN;\nCREATE TABLE events_new (id bigint PRIMARY KEY, payload jsonb);\n"
                               "DROP TABLE events;\nALTER TABLE events_new RENAME TO events;\nCOMMIT;\n"
                               "DROP TABLE other;\n")
    assert [line for line, rule in found if rule == "MS043"] == [6]


def test_a_swap_inside_a_do_block_is_seen_through_the_rest_of_the_block(tmp_path):
    found = findings(tmp_path, "DO $$\nBEGIN\n  CREATE TABLE events_new (id bigint PRIMARY KEY);\n"
                               "  DROP TABLE events;\n  ALTER TABLE events_new RENAME TO events;\nEND $$;\n")
    assert [line for line, rule in found if rule == "MS043"] == []


def test_a_table_renamed_away_and_replaced_then_dropped(tmp_path):
    found = findings(tmp_path, "BEGIN;\nCREATE TABLE events_new (id bigint PRIMARY KEY);\n"
                               "ALTER TABLE events RENAME TO events_old;\n"
                               "ALTER TABLE events_new RENAME TO events;\nDROP TABLE events_old;\nCOMMIT;\n")
    assert [line for line, rule in found if rule in ("MS041", "MS043")] == []


def test_a_swap_split_by_a_commit_still_breaks_the_running_code(tmp_path):
    found = findings(tmp_path, "BEGIN;\nCREATE TABLE events_new (id bigint PRIMARY KEY);\nDROP TABLE events;\n"
                               "COMMIT;\nALTER TABLE events_new RENAME TO events;\n")
    assert [line for line, rule in found if rule == "MS043"] == [3]
    found = findings(tmp_path, "BEGIN;\nCREATE TABLE events_new (id bigint PRIMARY KEY);\n"
                               "ALTER TABLE events RENAME TO events_old;\nCOMMIT;\n"
                               "ALTER TABLE events_new RENAME TO events;\n", name="003_change.sql")
    assert [line for line, rule in found if rule == "MS041"] == [3]
