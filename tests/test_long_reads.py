"""MS034 long read under a strong lock: a statement that only reads is never called an
unbatched data change (MS033), and on a real server the read keeps the other table's queries
waiting while it runs."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.config import Config
from pgtruth import connect, scratch_database

SETUP = """CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new', note text);
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
"""


def findings(tmp_path, sql: str):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(sql)
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    return [(f.line, f.rule) for f in report.all_findings()
            if Path(f.path).name == "002_change.sql" and f.rule in ("MS030", "MS033", "MS034")]


@pytest.mark.parametrize("read", [
    "SELECT count(*) FROM customers;",
    "ANALYZE customers;",
    "CREATE TEMP TABLE pending AS SELECT id FROM customers;",
    "DO $$\nDECLARE c RECORD;\nBEGIN\n  FOR c IN SELECT * FROM customers LOOP\n    RAISE NOTICE '%', c.id;\n"
    "  END LOOP;\nEND $$;",
])
def test_a_read_under_the_ddl_lock_is_ms034_not_a_data_change(tmp_path, read):
    found = findings(tmp_path, f"BEGIN;\nALTER TABLE orders ADD COLUMN extra int;\n{read}\nCOMMIT;\n")
    assert [rule for _, rule in found] == ["MS034"]


@pytest.mark.parametrize("read", ["SELECT count(*) FROM customers;", "ANALYZE customers;"])
def test_a_read_after_the_commit_is_not_flagged(tmp_path, read):
    assert findings(tmp_path, f"ALTER TABLE orders ADD COLUMN extra int;\n{read}\n") == []


def test_a_data_change_under_the_lock_stays_ms030(tmp_path):
    found = findings(tmp_path, "BEGIN;\nALTER TABLE orders ADD COLUMN extra int;\nUPDATE customers SET name = 'x';\n"
                               "COMMIT;\n")
    assert found == [(3, "MS030")]


def test_a_read_under_the_ddl_lock_keeps_the_locked_tables_queries_waiting(pg_server):
    """What MS034 says, on the server: a SELECT of orders waits while the migration's transaction,
    after its ALTER TABLE, is still reading another table."""
    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as setup:
        setup.execute(SETUP)
        setup.execute("INSERT INTO customers SELECT g FROM generate_series(1, 1000) AS g")
        with connect(scratch.conninfo) as migration, connect(scratch.conninfo) as app:
            migration.execute("BEGIN")
            migration.execute("ALTER TABLE orders ADD COLUMN extra int")
            reader = threading.Thread(target=migration.execute,
                                      args=("SELECT count(*), pg_sleep(1) FROM customers",))
            reader.start()
            time.sleep(0.2)
            app.execute("SET lock_timeout = '300ms'")
            with pytest.raises(Exception, match="lock timeout"):
                app.execute("SELECT * FROM orders")
            reader.join()
            migration.execute("ROLLBACK")
