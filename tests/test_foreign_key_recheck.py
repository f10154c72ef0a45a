"""A type change of a column at either end of a foreign key: PostgreSQL drops the key and
re-creates it, which locks the table at its other end ACCESS EXCLUSIVE, and checks it again over
every referencing row unless the column keeps its storage and its equality operator (tablecmds.c,
ATAddForeignKeyConstraint's old_check_ok). Observed on every major as the statement's own
sequential scans of the referencing table in pg_stat_xact_user_tables, and compared with the
lock model's scans; then the finding that names both tables.
"""
from __future__ import annotations

import psycopg
import pytest
from pglast.parser import parse_sql

from migrasafe.catalog import Catalog
from migrasafe.catalog.apply import apply
from migrasafe.locks import impact
from pgtruth import scratch_database

SETUP = [
    "CREATE TABLE accounts (id {key} PRIMARY KEY)",
    "CREATE TABLE orders (id int PRIMARY KEY, account_id {ref} REFERENCES accounts (id))",
]
ROWS = [
    "INSERT INTO accounts SELECT {value} FROM generate_series(1, 50) g",
    "INSERT INTO orders SELECT g, {value} FROM generate_series(1, 50) g",
]
VALUES = {"int": "g", "bigint": "g", "text": "g::text", "varchar(10)": "g::text", "char(5)": "g::text",
          "numeric(10,2)": "g", "timestamp": "timestamp '2024-01-01' + g * interval '1 hour'"}

# (key type, referencing type, the column retyped, its new type, session TimeZone)
CASES = [
    ("int", "int", "accounts.id", "bigint", "UTC"),
    ("int", "int", "orders.account_id", "bigint", "UTC"),
    ("int", "bigint", "accounts.id", "bigint", "UTC"),
    ("int", "int", "accounts.id", "int", "UTC"),
    ("varchar(10)", "varchar(10)", "accounts.id", "varchar(20)", "UTC"),
    ("varchar(10)", "varchar(10)", "accounts.id", "text", "UTC"),
    ("varchar(10)", "varchar(10)", "orders.account_id", "text", "UTC"),
    ("varchar(10)", "varchar(10)", "accounts.id", "varchar(5)", "UTC"),
    ("text", "text", "accounts.id", "varchar", "UTC"),
    ("text", "text", "orders.account_id", "varchar(30)", "UTC"),
    ("char(5)", "char(5)", "accounts.id", "text", "UTC"),
    ("numeric(10,2)", "numeric(10,2)", "accounts.id", "numeric(12,2)", "UTC"),
    ("numeric(10,2)", "numeric(10,2)", "accounts.id", "numeric(10,4)", "UTC"),
    # Not rewritten in UTC, but compared with another operator: checked again all the same.
    ("timestamp", "timestamp", "accounts.id", "timestamptz", "UTC"),
    ("timestamp", "timestamp", "accounts.id", "timestamptz", "Europe/Paris"),
]
IDS = [f"{key}-{ref}-{column}-{new}-{tz}".replace(" ", "") for key, ref, column, new, tz in CASES]


def _setup(key: str, ref: str) -> list[str]:
    return [sql.format(key=key, ref=ref) for sql in SETUP]


def _statement(column: str, new: str) -> str:
    table, name = column.split(".")
    return f"ALTER TABLE {table} ALTER COLUMN {name} TYPE {new}"


def _model(key: str, ref: str, column: str, new: str, tz: str, major: int):
    catalog = Catalog()
    for sql in _setup(key, ref):
        apply(catalog, parse_sql(sql)[0].stmt)
    return impact(parse_sql(_statement(column, new))[0].stmt, catalog, pg_version=major, timezone_utc=tz == "UTC")


def _seq_scans(conn, table: str) -> int:
    row = conn.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = %s::regclass",
                       (table,)).fetchone()
    return row[0] if row else 0


@pytest.mark.parametrize("key,ref,column,new,tz", CASES, ids=IDS)
def test_model_scans_the_referencing_table_when_the_server_checks_the_key(pg_server, key, ref, column, new, tz):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in _setup(key, ref) + [r.format(value=VALUES[key]) for r in ROWS]:
                conn.execute(sql)
        with psycopg.connect(scratch.conninfo) as conn:
            conn.execute(f"SET TimeZone = '{tz}'")
            before = _seq_scans(conn, "orders")
            conn.execute(_statement(column, new))
            checked = _seq_scans(conn, "orders") > before
            locked = {row[0] for row in conn.execute(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = pg_backend_pid() AND l.mode = 'AccessExclusiveLock'")}
            conn.rollback()
    imp = _model(key, ref, column, new, tz, pg_server.major)
    assert ("public.orders" in imp.scans) == checked, f"pg{pg_server.major}: server checked the key: {checked}"
    assert {"accounts", "orders"} <= locked
    assert {l.relation for l in imp.locks if l.mode == "AccessExclusiveLock"} >= {"public.accounts", "public.orders"}


def _findings(tmp_path, key: str, ref: str, statement: str):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text(";\n".join(_setup(key, ref)) + ";\n")
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '2s';\n" + statement + ";\n")
    report = run([str(tmp_path)], Config(cache=False))
    return [f for f in report.results[-1].all_findings() if f.rule == "MS011"]


def test_retyped_key_names_the_referencing_table(tmp_path):
    (finding,) = _findings(tmp_path, "int", "int", "ALTER TABLE accounts ALTER COLUMN id TYPE bigint")
    assert finding.message.endswith(
        "; the foreign key from public.orders is dropped and re-created, so public.orders is locked too "
        "(AccessExclusiveLock: every query on it waits), and every row of public.orders is checked against "
        "public.accounts again")


def test_retyped_referencing_column_names_the_referenced_table(tmp_path):
    (finding,) = _findings(tmp_path, "int", "int", "ALTER TABLE orders ALTER COLUMN account_id TYPE bigint")
    assert "its foreign key to public.accounts is dropped and re-created, so public.accounts is locked too" \
        in finding.message
    assert finding.message.endswith("every row of public.orders is checked against public.accounts again")


def test_rewrite_that_keeps_the_comparison_names_the_lock_only(tmp_path):
    """varchar(10) to varchar(5) rewrites (each value is checked) yet compares as text: the key is
    re-created, so the other table is locked, and checked again (observed above)."""
    (finding,) = _findings(tmp_path, "varchar(10)", "varchar(10)", "ALTER TABLE accounts ALTER COLUMN id TYPE varchar(5)")
    assert "public.orders is locked too" in finding.message
    assert finding.message.endswith("every row of public.orders is checked against public.accounts again")
