"""System catalogs resolve to pg_catalog whatever the search_path says, and are not user tables."""
from __future__ import annotations

import psycopg

from migrasafe.catalog import Catalog, Relation
from migrasafe.catalog.system import PG_CATALOG_RELATIONS
from migrasafe.check import run
from migrasafe.config import Config


def test_the_list_names_every_table_and_view_of_pg_catalog(pg_server):
    with psycopg.connect(pg_server.uri) as conn:
        names = {row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'v', 'm', 'p')")}
    assert names and names <= PG_CATALOG_RELATIONS, sorted(names - PG_CATALOG_RELATIONS)


def test_pg_catalog_is_searched_first_unless_the_path_names_it():
    catalog = Catalog()
    catalog.relations["public.pg_index"] = Relation("public.pg_index", "table")
    assert catalog.qualify(None, "pg_index") == "pg_catalog.pg_index"
    catalog.search_path = ["public", "pg_catalog"]
    assert catalog.qualify(None, "pg_index") == "public.pg_index"
    assert catalog.qualify(None, "orders") == "public.orders"
    assert not catalog.is_live("pg_catalog.pg_class") and not catalog.is_live("information_schema.columns")
    assert catalog.is_live("public.orders")  # never created by the history: assumed live


def test_writing_a_system_catalog_is_no_backfill(tmp_path):
    (tmp_path / "001_base.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY);\n")
    (tmp_path / "002_fix.sql").write_text(
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nSET LOCAL search_path = app, public;\n"
        "ALTER TABLE orders ADD COLUMN c text;\n"
        "UPDATE pg_index SET indisclustered = false WHERE indrelid = 'orders'::regclass;\n"
        "DELETE FROM pg_catalog.pg_description WHERE objoid = 0;\n"
        "SELECT count(*) FROM information_schema.columns;\nCOMMIT;\n")
    report = run([str(tmp_path)], Config())
    assert [f.rule for f in report.all_findings()] == []
    statements = report.results[-1].statements
    assert all(not l.relation.startswith(("pg_catalog.", "information_schema.")) for a in statements
               for l in a.impact.locks)
