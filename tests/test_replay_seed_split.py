"""A large table's rows made by two connections at once are the rows one connection makes; keys
that could clash between the two keep a table on one connection."""
from __future__ import annotations

import psycopg
import pytest

from migrasafe.replay.distinct import ENDLESS, distinct_rows
from migrasafe.replay.ranges import RowNumbers, attempts
from migrasafe.replay.schema import Column, Table

SCHEMA = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, born date);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     code integer NOT NULL CHECK (code % 7 <> 0), note text);
CREATE TABLE small_keys (k smallint PRIMARY KEY, v text);
"""
ROWS = 30_000


@pytest.fixture(scope="module")
def server():
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18) as server:
        yield server


def seed(server, together: bool) -> dict:
    from migrasafe.replay.seed import Seeder

    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)
        seeder = Seeder(conn, superuser=True, helper_conninfo=conninfo if together else None)
        try:
            # One table at a time (customers, then orders, then small_keys), as a migration that
            # touches orders has them seeded; a level of two tables would go one on each connection.
            made = seeder.seed(lambda schema, table: ROWS, only={"public.orders"})
            made += seeder.seed(lambda schema, table: ROWS, only={"public.small_keys"})
            results = {r.table: r for r in made}
        finally:
            seeder.close()

        def one(sql: str):
            return conn.execute(sql).fetchone()[0]

        return {
            "results": {table: (r.inserted, r.problem) for table, r in results.items()},
            "customers": one("SELECT md5(string_agg(email || born, ',' ORDER BY email)) FROM customers"),
            "orders": one("SELECT md5(string_agg(code || ' ' || note, ',' ORDER BY code, note)) FROM orders"),
            # Each customer is referenced as often, whichever connection made which row.
            "references": one("SELECT md5(string_agg(n::text, ',' ORDER BY n)) FROM "
                              "(SELECT count(*) AS n FROM orders GROUP BY customer_id) c"),
            "dangling": one("SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
                            "WHERE c.id IS NULL"),
            "small_keys": one("SELECT md5(string_agg(k || v, ',' ORDER BY k)) FROM small_keys"),
            # Every autocommitted INSERT is a transaction of its own: two for a table made by both.
            "inserts": {table: one(f"SELECT count(DISTINCT xmin::text) FROM {table}")
                        for table in ("customers", "orders", "small_keys")},
        }


def test_two_connections_make_the_rows_one_makes(server):
    alone, together = seed(server, together=False), seed(server, together=True)
    assert alone["results"] == together["results"]
    assert alone["results"]["public.orders"] == (ROWS, None)
    for figure in ("customers", "orders", "references", "small_keys"):
        assert alone[figure] == together[figure], figure
    assert alone["dangling"] == together["dangling"] == 0
    assert alone["inserts"]["customers"] == 1 and together["inserts"]["customers"] == 2
    # The orders' CHECK drops a seventh of the row numbers: more ranges follow.
    assert together["inserts"]["orders"] > 2 and alone["inserts"]["orders"] > 1
    # smallint keys repeat after 32,768 row numbers, fewer than might be tried: one connection.
    assert together["inserts"]["small_keys"] == 1


def column(name: str, base: str, *, default: str | None = None, identity: str = "") -> Column:
    return Column(1, name, base, True, base, base, "N" if base.startswith("int") else "S", None, None, [],
                  default, identity, "")


def table(*columns: Column, keys: list[list[str]], exclusion: bool = False) -> Table:
    return Table(1, "public", "t", "r", list(columns), keys, bool(keys) or exclusion, exclusion)


def test_the_runs_over_which_keys_stay_distinct():
    serial = column("id", "int8", default="nextval('t_id_seq'::regclass)")
    email, small = column("email", "text"), column("k", "int2")
    runs = {"id": ENDLESS, "email": ENDLESS, "k": 32_768, "a": 0, "b": 0}
    assert distinct_rows(table(serial, email, keys=[]), runs, {}) == ENDLESS  # no key at all
    assert distinct_rows(table(serial, email, keys=[["id"], ["email"]]), runs, {}) == ENDLESS
    assert distinct_rows(table(small, keys=[["k"]]), runs, {}) == 32_768
    assert distinct_rows(table(serial, small, keys=[["k", "id"]]), runs, {}) == ENDLESS  # one column suffices
    assert distinct_rows(table(serial, keys=[["id"]], exclusion=True), runs, {}) == 0
    assert distinct_rows(table(serial, keys=[[]]), runs, {}) == 0  # an expression index
    # Two foreign keys making a key: parent key numbers g % 500 and (g / 500) % 40.
    pair = table(column("a", "int8"), column("b", "int8"), keys=[["a", "b"]])
    assert distinct_rows(pair, runs, {"a": (1, 500), "b": (500, 40)}) == 20_000
    assert distinct_rows(pair, runs, {"a": (1, 500), "b": (7, 40)}) == 500  # radixes that do not chain
    assert attempts(ROWS) > 32_768  # so small_keys above stays on one connection


def test_row_numbers_never_hand_out_more_than_is_missing():
    rows = RowNumbers(base=10, need=100)
    first, second = rows.take(share=2), rows.take(share=2)
    assert first == (11, 60) and second == (61, 110)
    rows.done(50, 45)  # five fell out on a filter
    third = rows.take(share=2)
    assert third == (111, 115)  # only what is missing while the second range is still out
    rows.done(50, 50)
    rows.done(5, 5)
    assert rows.take(share=2) is None and rows.inserted == 100 and rows.made == 105
