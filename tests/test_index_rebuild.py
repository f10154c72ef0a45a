"""A type change that keeps a table's rows can still build an index of the column again: when the
index would sort by other operators (timestamp to timestamptz with TimeZone UTC) or another
collation, PostgreSQL does not keep it (CheckIndexCompatible), and builds it under the ALTER's
AccessExclusiveLock. Observed on every major as new relfilenodes, compared with the lock model;
then MS011's finding for it.
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
    "CREATE TABLE events (id int PRIMARY KEY, v {old}, other int)",
    "CREATE INDEX events_v ON events (v)",
    "CREATE INDEX events_other ON events (other)",
]

# (old type, new type, session TimeZone)
CASES = [
    ("timestamp", "timestamptz", "UTC"),
    ("timestamp", "timestamptz", "Europe/Paris"),
    ("timestamptz", "timestamp", "UTC"),
    ("text", 'text COLLATE "C"', "UTC"),
    ("varchar(10)", 'varchar(20) COLLATE "C"', "UTC"),
    ("varchar(10)", "text", "UTC"),
    ("varchar(10)", "varchar(20)", "UTC"),
    ("text", "varchar", "UTC"),
    ("numeric(10,2)", "numeric(12,2)", "UTC"),
    ("int", "int", "UTC"),
    ("int", "bigint", "UTC"),
    ("text", "varchar(20)", "UTC"),
]
IDS = [f"{old}-{new}-{tz}".replace(" ", "").replace('"', "") for old, new, tz in CASES]
FILENODES = "SELECT relname, relfilenode FROM pg_class WHERE relname IN ('events', 'events_v', 'events_other')"


def _model(old: str, new: str, tz: str, major: int):
    catalog = Catalog()
    for sql in SETUP:
        apply(catalog, parse_sql(sql.format(old=old))[0].stmt)
    node = parse_sql(f"ALTER TABLE events ALTER COLUMN v TYPE {new}")[0].stmt
    return impact(node, catalog, pg_version=major, timezone_utc=tz == "UTC")


@pytest.mark.parametrize("old,new,tz", CASES, ids=IDS)
def test_model_rebuilds_the_indexes_the_server_rebuilds(pg_server, old, new, tz):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql.format(old=old))
            conn.execute("INSERT INTO events SELECT g, NULL, g FROM generate_series(1, 20) g")
        with psycopg.connect(scratch.conninfo) as conn:
            conn.execute(f"SET TimeZone = '{tz}'")
            before = dict(conn.execute(FILENODES).fetchall())
            conn.execute(f"ALTER TABLE events ALTER COLUMN v TYPE {new}")
            after = dict(conn.execute(FILENODES).fetchall())
            conn.rollback()
    imp = _model(old, new, tz, pg_server.major)
    table_rewritten = before["events"] != after["events"]
    assert ("public.events" in imp.rewrites) == table_rewritten, f"pg{pg_server.major}"
    if not table_rewritten:
        rebuilt = {name for name in ("events_v", "events_other") if before[name] != after[name]}
        claimed = {name.split(".")[1] for name in imp.notes.get("rebuilt_indexes", {}).get("v", {}).get("indexes", ())}
        assert claimed == rebuilt, f"pg{pg_server.major}"
        assert ("public.events" in imp.scans) == bool(rebuilt)


def _ms011(tmp_path, setup: str, statement: str):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text(setup)
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '2s';\n" + statement + ";\n")
    report = run([str(tmp_path)], Config(cache=False, timezone_utc=True))
    return [f for f in report.results[-1].all_findings() if f.rule == "MS011"]


def test_finding_names_the_index_built_again(tmp_path):
    (finding,) = _ms011(tmp_path, "CREATE TABLE events (id int PRIMARY KEY, at timestamp);\n"
                                  "CREATE INDEX events_at ON events (at);\n",
                        "ALTER TABLE events ALTER COLUMN at TYPE timestamptz")
    assert finding.message == ("changing public.events.at from timestamp to timestamptz keeps the table's rows but "
                               "builds index public.events_at again, reading all of live table public.events under "
                               "AccessExclusiveLock: every query on public.events waits until it is built")
    assert "DROP INDEX CONCURRENTLY" in finding.fix


def test_a_unique_index_built_again_gets_expand_contract(tmp_path):
    (finding,) = _ms011(tmp_path, "CREATE EXTENSION citext;\nCREATE TABLE users (id int PRIMARY KEY, email varchar(100) UNIQUE);\n",
                        "ALTER TABLE users ALTER COLUMN email TYPE citext")
    assert finding.message.startswith("changing public.users.email from varchar(100) to citext keeps the table's rows "
                                      "but builds index public.users_email_key again")
    assert "expand-contract" in finding.fix and "DROP INDEX" not in finding.fix


def test_no_index_on_the_column_no_finding(tmp_path):
    assert _ms011(tmp_path, "CREATE TABLE events (id int PRIMARY KEY, at timestamp);\n",
                  "ALTER TABLE events ALTER COLUMN at TYPE timestamptz") == []
