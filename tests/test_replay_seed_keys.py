"""Rows whose keys cannot clash go in without ON CONFLICT: the same rows, in the same order, as
with it; keys that could repeat over the row numbers tried, and tables with rows, keep it."""
from __future__ import annotations

import psycopg
import pytest

from migrasafe.replay.distinct import ENDLESS, distinct_rows
from migrasafe.replay.schema import Column, Table
from migrasafe.replay.seed import InsertPlan, attempts

SCHEMA = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, born date);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     code integer NOT NULL CHECK (code % 7 <> 0), note text);
CREATE TABLE lines (order_id bigint NOT NULL REFERENCES orders, customer_id bigint NOT NULL REFERENCES customers,
                    PRIMARY KEY (order_id, customer_id));
CREATE TABLE small_keys (k smallint PRIMARY KEY, v text);
CREATE TABLE codes (code text PRIMARY KEY);
INSERT INTO codes VALUES ('1 code');
"""
ROWS = 30_000
TABLES = ("customers", "orders", "lines", "small_keys", "codes")


@pytest.fixture(scope="module")
def server():
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18) as server:
        yield server


def seed(server, monkeypatch, always_on_conflict: bool) -> tuple[dict, dict]:
    from migrasafe.replay.seed import Seeder

    chosen: dict[str, bool] = {}
    for_rows = InsertPlan.for_rows

    def recording(plan, existing, need):
        statement = plan.statement if always_on_conflict else for_rows(plan, existing, need)
        chosen[statement.as_string(None).split()[2]] = "ON CONFLICT" in statement.as_string(None)
        return statement

    monkeypatch.setattr(InsertPlan, "for_rows", recording)
    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)
        seeder = Seeder(conn, superuser=True)
        results = {r.table: (r.inserted, r.problem) for r in seeder.seed(lambda schema, table: ROWS)}
        digests = {table: conn.execute(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY ctid)) FROM {table} t")
                   .fetchone() for table in TABLES}
    return {"results": results, "digests": digests}, chosen


def test_rows_that_cannot_clash_go_in_without_on_conflict_and_are_the_same(server, monkeypatch):
    plain, chosen = seed(server, monkeypatch, always_on_conflict=False)
    guarded, _ = seed(server, monkeypatch, always_on_conflict=True)
    assert plain == guarded  # every row, its ids and its place in the table
    assert plain["results"]["public.orders"] == (ROWS, None)
    assert chosen == {
        '"public"."customers"': False, '"public"."orders"': False,
        '"public"."lines"': False,  # (order, customer) pairs: all 30,000 x 30,000 combinations differ
        '"public"."small_keys"': True,  # smallint keys repeat after 32,768 row numbers
        '"public"."codes"': True,  # a row was there already
    }


def column(name: str, base: str, *, default: str | None = None) -> Column:
    return Column(1, name, base, True, base, base, "N" if base.startswith("int") else "S", None, None, [],
                  default, "", "")


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
    assert attempts(ROWS) > 32_768  # so small_keys above keeps ON CONFLICT
