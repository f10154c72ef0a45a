"""Synthetic rows that respect the schema: keys, foreign keys, enums, CHECKs, domains, partitions."""
from __future__ import annotations

import psycopg
import pytest

from migrasafe.replay.backends import open_backend
from migrasafe.replay.seed import Seeder

SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, mood mood NOT NULL,
                        code char(3), born date, score numeric(5,2) CHECK (score BETWEEN 0 AND 100));
CREATE TABLE products (sku text PRIMARY KEY, price positive_int NOT NULL, tags text[], meta jsonb,
                       during tsrange, uid uuid UNIQUE);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     parent_id bigint REFERENCES orders, status text NOT NULL
                     CHECK (status IN ('new', 'paid', 'shipped')), quantity int CHECK (quantity > 5 AND quantity < 50));
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders, sku text NOT NULL REFERENCES products,
                          PRIMARY KEY (order_id, sku));
CREATE TABLE readings (taken_on date NOT NULL, value numeric NOT NULL) PARTITION BY RANGE (taken_on);
CREATE TABLE readings_2023 PARTITION OF readings FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE regions (name text NOT NULL) PARTITION BY LIST (name);
CREATE TABLE regions_eu PARTITION OF regions FOR VALUES IN ('de', 'fr');
CREATE TABLE regions_us PARTITION OF regions FOR VALUES IN ('ca', 'ny');
INSERT INTO customers (email, mood) VALUES ('ann@example.com', 'happy');
"""


@pytest.fixture(scope="module")
def seeded():
    with open_backend("embedded", pg_version=18) as server, server.database() as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(SCHEMA)
            # With a second connection, as the replay seeds: tables of one level go side by side.
            seeder = Seeder(conn, superuser=True, helper_conninfo=conninfo)
            results = seeder.seed(lambda schema, table: 3_000)
            assert seeder._helper is not None
            seeder.close()
            yield conn, {r.table: r for r in results}


def count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def test_every_table_gets_its_rows(seeded):
    conn, results = seeded
    for table in ("customers", "products", "orders", "order_lines", "readings", "regions"):
        assert count(conn, f"SELECT count(*) FROM {table}") == 3_000, results.get(f"public.{table}")
        assert results[f"public.{table}"].problem is None
    assert results["public.customers"].inserted == 2_999  # one row was there already


def test_foreign_keys_point_at_existing_rows(seeded):
    conn, _ = seeded
    # Checked here because the seeder skips the per-row checks as a superuser.
    assert count(conn, "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
                       "WHERE c.id IS NULL") == 0
    assert count(conn, "SELECT count(*) FROM order_lines l LEFT JOIN products p ON p.sku = l.sku "
                       "WHERE p.sku IS NULL") == 0
    assert count(conn, "SELECT count(DISTINCT customer_id) FROM orders") > 100


def test_checks_enums_domains_and_partitions_hold(seeded):
    conn, _ = seeded
    assert count(conn, "SELECT count(*) FROM orders WHERE status NOT IN ('new', 'paid', 'shipped')") == 0
    assert count(conn, "SELECT count(DISTINCT status) FROM orders") == 3
    assert count(conn, "SELECT count(*) FROM orders WHERE quantity <= 5 OR quantity >= 50") == 0
    assert count(conn, "SELECT count(*) FROM customers WHERE score < 0 OR score > 100") == 0
    assert count(conn, "SELECT count(DISTINCT mood) FROM customers") == 3
    assert count(conn, "SELECT count(*) FROM products WHERE price <= 0") == 0
    assert count(conn, "SELECT count(*) FROM readings_2023") > 0 and count(conn, "SELECT count(*) FROM readings_2024") > 0
    assert count(conn, "SELECT count(*) FROM regions_eu") > 0 and count(conn, "SELECT count(*) FROM regions_us") > 0
    # NOT NULL holds, and nullable columns are filled too.
    assert count(conn, "SELECT count(*) FROM customers WHERE code IS NULL OR born IS NULL") <= 1
    # Every CHECK and foreign key would validate: added again, the server checks every row.
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype IN ('c', 'f') AND conrelid <> 0 AND connamespace = 'public'::regnamespace "
        "AND NOT conislocal = false").fetchall()
    assert len(constraints) >= 6
    for table, name, definition in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}", ADD CONSTRAINT "{name}" {definition}')


class CountingConnection:
    """The seeder's connection, counting the INSERTs it sends and the rows each one made."""

    def __init__(self, conn):
        self._conn = conn
        self.inserts: list[int] = []

    def execute(self, statement, *args, **kwargs):
        cursor = self._conn.execute(statement, *args, **kwargs)
        text = statement if isinstance(statement, str) else statement.as_string(self._conn)
        if text.lstrip().upper().startswith("INSERT"):
            self.inserts.append(cursor.rowcount)
        return cursor

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_seeding_1m_rows_is_bulk(tmp_path):
    """Not a timing test (bench/ has the figures): a million rows are made in chunks, not row by
    row, counted in statements sent to the server, which does not depend on the machine's load."""
    with open_backend("embedded", pg_version=18) as server, server.database() as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL)")
            counting = CountingConnection(conn)
            (result,) = Seeder(counting, superuser=True).seed(lambda schema, table: 1_000_000)
            assert count(conn, "SELECT count(*) FROM events") == 1_000_000
            assert result.inserted == 1_000_000 and result.problem is None
    # A few INSERTs of many rows each (ten of 100,000 today), where row by row would be a million.
    assert sum(counting.inserts) == 1_000_000
    assert len(counting.inserts) <= 20 and min(counting.inserts) >= 50_000, counting.inserts


def test_only_the_tables_asked_for_and_their_parents_are_seeded():
    with open_backend("embedded", pg_version=18) as server, server.database() as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE customers (id bigint PRIMARY KEY);"
                         "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers);"
                         "CREATE TABLE archive (id bigint PRIMARY KEY)")
            seeder = Seeder(conn, superuser=True)
            first = seeder.seed(lambda schema, table: 500, only={"public.orders"})
            assert sorted(r.table for r in first) == ["public.customers", "public.orders"]
            assert conn.execute("SELECT count(*) FROM archive").fetchone()[0] == 0
            assert seeder.seed(lambda schema, table: 500, only={"public.orders"}) == []  # seeded already
            later = seeder.seed(lambda schema, table: 500, only={"public.archive", "public.not_yet_created"})
            assert [r.table for r in later] == ["public.archive"]
            # A view's rows come from tables its name does not show: everything left is seeded.
            conn.execute("CREATE TABLE items (id bigint PRIMARY KEY); CREATE VIEW item_view AS SELECT * FROM items")
            through_view = seeder.seed(lambda schema, table: 500, only={"public.item_view"})
            assert [r.table for r in through_view] == ["public.items"]


def test_a_table_seeded_ahead_gets_the_rows_it_would_get_when_first_needed():
    schema = ("CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);"
              "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, n int);"
              "CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz);")
    rows = "SELECT md5(string_agg(t::text, '|' ORDER BY ctid)) FROM {} t"
    seen = {}
    with open_backend("embedded", pg_version=18) as server:
        for way in ("when needed", "ahead"):
            with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(schema)
                seeder = Seeder(conn, superuser=True, helper_conninfo=conninfo)
                if way == "ahead":
                    ahead = [({"public.events"}, {"public.customers"}), ({"public.orders"}, {"public.customers", "public.events"})]
                    first = seeder.seed(lambda schema, table: 2_000, only={"public.customers"}, ahead=ahead)
                    # orders picks keys from customers, which the migration about to run touches.
                    assert sorted(r.table for r in first) == ["public.customers", "public.events"]
                else:
                    first = seeder.seed(lambda schema, table: 2_000, only={"public.customers"})
                    assert [r.table for r in first] == ["public.customers"]
                    seeder.seed(lambda schema, table: 2_000, only={"public.events"})
                seeder.seed(lambda schema, table: 2_000, only={"public.orders"})
                seeder.close()
                seen[way] = [conn.execute(rows.format(name)).fetchone()[0] for name in ("customers", "events", "orders")]
    assert seen["ahead"] == seen["when needed"]
