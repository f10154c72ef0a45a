"""A type change that gives a column another collation keeps every row but not the order of
its indexes: PostgreSQL builds each index on the column again (tablecmds.c, CheckIndexCompatible
fails on the collation), reading the whole table under the ALTER's AccessExclusiveLock. Without
COLLATE the column takes its type's default collation, so a "C" column retyped plainly loses it.
Observed on every major as a new relfilenode of the index and none of the table; then the
finding that names the indexes."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pglast.parser import parse_sql

from migrasafe.catalog import Catalog
from migrasafe.catalog.apply import apply
from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.locks import impact
from pgtruth import scratch_database

SETUP = [
    'CREATE TABLE rows (id int PRIMARY KEY, k text, c text COLLATE "C", v varchar(10))',
    "CREATE INDEX rows_k ON rows (k, id)",
    "CREATE INDEX rows_c ON rows (c)",
    "CREATE INDEX rows_v ON rows (v)",
]
ROWS = "INSERT INTO rows SELECT g, g::text, g::text, g::text FROM generate_series(1, 100) g"

# (statement, the index PostgreSQL builds again, or None)
CASES = [
    ('ALTER TABLE rows ALTER COLUMN k TYPE text COLLATE "C"', "rows_k"),
    ("ALTER TABLE rows ALTER COLUMN c TYPE text", "rows_c"),
    ('ALTER TABLE rows ALTER COLUMN c TYPE text COLLATE "C"', None),
    ("ALTER TABLE rows ALTER COLUMN v TYPE varchar(20)", None),
    ("ALTER TABLE rows ALTER COLUMN v TYPE text", None),
]


def _files(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT relname::text, relfilenode::int FROM pg_class "
                             "WHERE relname IN ('rows', 'rows_k', 'rows_c', 'rows_v')").fetchall())


def _model(statement: str, major: int):
    catalog = Catalog()
    for sql in SETUP:
        apply(catalog, parse_sql(sql)[0].stmt)
    return impact(parse_sql(statement)[0].stmt, catalog, pg_version=major, timezone_utc=True)


@pytest.mark.parametrize("statement,index", CASES, ids=[c[0].split("COLUMN ")[1] for c in CASES])
def test_model_rebuilds_the_indexes_the_server_builds_again(pg_server, statement, index):
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP + [ROWS]:
                conn.execute(sql)
        with psycopg.connect(scratch.conninfo) as conn:
            before = _files(conn)
            conn.execute(statement)
            after = _files(conn)
            conn.rollback()
    rebuilt = sorted(name for name in before if before[name] != after[name])
    assert rebuilt == ([index] if index else []), f"pg{pg_server.major}"
    imp = _model(statement, pg_server.major)
    noted = [name.split(".")[1] for entry in (imp.notes.get("rebuilt_indexes") or {}).values()
             for name in entry["indexes"]]
    assert noted == rebuilt
    assert imp.rewrites == []
    assert ("public.rows" in imp.scans) == bool(index)


def _findings(tmp_path: Path, statement: str):
    (tmp_path / "001_setup.sql").write_text(";\n".join(SETUP) + ";\n")
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '2s';\n" + statement + ";\n")
    report = run([str(tmp_path)], Config(cache=False))
    return [f for f in report.results[-1].all_findings() if f.rule == "MS011"]


def test_new_collation_names_the_index_built_again(tmp_path):
    (finding,) = _findings(tmp_path, 'ALTER TABLE rows ALTER COLUMN k SET DATA TYPE text COLLATE "C"')
    assert finding.severity == "error"
    assert finding.message == (
        'changing the collation of public.rows.k from the default collation to "C" rewrites no rows but builds '
        "index public.rows_k again, reading all of live table public.rows under AccessExclusiveLock: every "
        "query on public.rows waits until it is built")


def test_retype_without_collate_drops_the_columns_collation(tmp_path):
    (finding,) = _findings(tmp_path, "ALTER TABLE rows ALTER COLUMN c TYPE text")
    assert 'from "C" to the default collation' in finding.message


def test_same_collation_or_unindexed_column_is_not_flagged(tmp_path):
    assert _findings(tmp_path, 'ALTER TABLE rows ALTER COLUMN c TYPE text COLLATE "C"') == []
    assert _findings(tmp_path, "ALTER TABLE rows ALTER COLUMN v TYPE varchar(20)") == []
