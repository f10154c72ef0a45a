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


def analysed_of(tmp_path, sql: str):
    (tmp_path / "schema.sql").write_text("CREATE TABLE orders (id int, note text); CREATE TYPE mood AS ENUM ('a');\n")
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "1.sql").write_text(sql)
    return run([str(tmp_path / "m")], Config(schema=[str(tmp_path / "schema.sql")])).results[0]


def test_only_statements_that_block_writes_or_hide_their_reach_are_rehearsed(tmp_path):
    from migrasafe.replay.rehearsal import worth_rehearsing

    cases = {
        "ALTER TABLE orders ADD COLUMN c int;": True,  # ACCESS EXCLUSIVE
        "CREATE INDEX orders_note_idx ON orders (note);": True,  # SHARE: blocks writes
        "DO $$ BEGIN PERFORM 1; END $$;": True,
        "SELECT backfill_orders();": True,
        "ANALYZE orders;": False,  # SHARE UPDATE EXCLUSIVE: blocks neither reads nor writes
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_check;": False,
        "COMMENT ON TABLE orders IS 'x';": False,
        "UPDATE orders SET note = 'x';": False,  # a data change leaves dead rows when rolled back
    }
    for sql, expected in cases.items():
        (analysed,) = analysed_of(tmp_path, sql + "\n").statements
        assert worth_rehearsing(analysed) is expected, sql


def test_what_a_type_domain_or_sequence_change_fences_off(tmp_path):
    from migrasafe.replay.touched import confined

    assert confined(analysed_of(tmp_path, "ALTER TABLE orders ADD COLUMN c int; DROP TABLE orders;\n"))
    assert confined(analysed_of(tmp_path, "CREATE INDEX i ON orders (id); COMMENT ON TABLE orders IS 'x';\n"))
    assert not confined(analysed_of(tmp_path, "ALTER TYPE mood ADD VALUE 'b';\n"))
    assert not confined(analysed_of(tmp_path, "DROP TYPE mood CASCADE;\n"))
    assert not confined(analysed_of(tmp_path, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"))


def test_seed_ahead_lists_later_migrations_until_one_hides_its_reach_or_is_not_confined():
    from migrasafe.replay.touched import seed_ahead

    touched = [{"a"}, {"b"}, {"c"}, None, {"d"}]
    fenced = [False, False, True, False, False]
    def pairs(position, fenced=fenced):
        # Copied as they come: the barred set grows after each pair.
        return [(set(needed), set(barred)) for needed, barred in seed_ahead(touched, fenced, position)]

    assert pairs(0) == [({"b"}, {"a"}), ({"c"}, {"a", "b"})]  # c's migration is not confined: nothing after
    assert pairs(2) == []  # not confined itself
    assert pairs(3) == []  # its reach is hidden
    assert pairs(1, fenced=[False] * 5) == [({"c"}, {"b"})]  # stops before the hidden one


def test_a_table_is_seeded_ahead_only_when_it_and_its_parents_stay_untouched_until_needed():
    from migrasafe.replay.schema import ForeignKey, Table
    from migrasafe.replay.seeding import ahead_tables

    customers, products = Table(1, "public", "customers", "r"), Table(2, "public", "products", "r")
    orders = Table(3, "public", "orders", "r", foreign_keys=[ForeignKey(["customer_id"], 1, ["id"])])
    lines = Table(4, "public", "lines", "r", foreign_keys=[ForeignKey(["order_id"], 3, ["id"]),
                                                           ForeignKey(["sku"], 2, ["sku"])])
    events = Table(5, "public", "events", "r")
    tables = {t.oid: t for t in (customers, products, orders, lines, events)}
    # About to run: a migration touching public.orders. Later: lines, then events.
    ahead = [({"public.lines"}, {"public.orders"}), ({"public.events"}, {"public.orders", "public.lines"})]
    chosen = ahead_tables(ahead, tables, seeded=set())
    # lines picks keys from orders, which the migration about to run may change: it waits; its
    # parents products and (through orders) customers, and events, stay untouched until needed.
    assert sorted(t.name for t in chosen) == ["customers", "events", "products"]
    assert ahead_tables(ahead, tables, seeded={1, 2, 5}) == []
