"""Which tables a migration touches, for seeding them just before it (replay/touched.py), and in which
order they are seeded (replay/seeding.py)."""
from __future__ import annotations

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.replay.touched import touched_tables


def touched(tmp_path, sql: str):
    (tmp_path / "schema.sql").write_text("CREATE TABLE orders (id int, note text); CREATE TABLE customers (id int);\n")
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "1.sql").write_text(sql)
    report = run([str(tmp_path / "m")], Config(schema=[str(tmp_path / "schema.sql")]))
    return touched_tables(report.results[0])


def test_the_tables_statements_lock_or_name(tmp_path):
    assert touched(tmp_path, "ALTER TABLE orders ADD COLUMN c text;\n") == {"public.orders"}
    assert touched(tmp_path, "INSERT INTO orders (id) SELECT id FROM customers;\n") == {"public.orders",
                                                                                        "public.customers"}


def test_a_statement_whose_reach_is_hidden_means_every_table(tmp_path):
    assert touched(tmp_path, "DO $$ BEGIN PERFORM 1; END $$;\n") is None
    assert touched(tmp_path, "SELECT backfill_orders();\n") is None


def test_tables_are_seeded_in_levels_children_after_their_parents():
    from migrasafe.replay.schema import ForeignKey, Table
    from migrasafe.replay.seeding import dependency_levels

    customers, products = Table(1, "public", "customers", "r"), Table(2, "public", "products", "r")
    orders = Table(3, "public", "orders", "r", foreign_keys=[ForeignKey(["customer_id"], 1, ["id"]),
                                                             ForeignKey(["parent_id"], 3, ["id"])])
    lines = Table(4, "public", "lines", "r", foreign_keys=[ForeignKey(["order_id"], 3, ["id"]),
                                                           ForeignKey(["sku"], 2, ["sku"])])
    levels = dependency_levels([customers, products, orders, lines])
    assert [[t.name for t in level] for level in levels] == [["customers", "products"], ["orders"], ["lines"]]
