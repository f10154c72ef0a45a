"""--schema seeds the catalog from a real pg_dump --schema-only file."""
from __future__ import annotations

import subprocess

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.replay.servers import embedded_bindir


@pytest.fixture
def dump_file(tmp_path, pg_servers):
    server = next(s for s in pg_servers if s.major == 18)
    with psycopg.connect(server.uri, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS dumped")
        conn.execute("CREATE DATABASE dumped")
    uri = server.uri.replace("/postgres?", "/dumped?")
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL);
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id),
                                 note varchar(50),
                                 CONSTRAINT orders_note_nn CHECK (note IS NOT NULL));
        """)
    pg_dump = embedded_bindir() / "pg_dump"
    out = tmp_path / "schema.sql"
    subprocess.run([str(pg_dump), "--schema-only", "--no-owner", "-f", str(out), uri], check=True,
                   capture_output=True)
    return out


def test_dump_makes_tables_live_and_known(tmp_path, dump_file):
    migration = tmp_path / "migrations" / "001_change.sql"
    migration.parent.mkdir()
    migration.write_text(
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);\n"  # widening: free
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"  # proven by the validated CHECK
        "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"  # live table: flagged
    )
    report = run([str(migration.parent)], Config(schema=[str(dump_file)]))
    rules = [(f.line, f.rule) for f in report.all_findings()]
    assert rules == [(4, "MS001")]
    widen = report.results[0].statements[1]
    assert widen.impact.rewrites == [] and widen.live == {"public.orders"}


def test_without_the_dump_the_widening_is_unknown(tmp_path):
    migration = tmp_path / "migrations" / "001_change.sql"
    migration.parent.mkdir()
    migration.write_text("SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);\n")
    report = run([str(migration.parent)], Config())
    assert [f.rule for f in report.all_findings()] == ["MS011"]
