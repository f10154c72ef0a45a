"""Schema snapshots read from a real server's catalog, and the differences between two."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.pq import TransactionStatus

import conftest
from migrasafe.replay.backends import open_backend
from migrasafe.replay.servers import start
from migrasafe.snapshot import diff, take_snapshot

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN price AS numeric(10,2) NOT NULL DEFAULT 0 CHECK (VALUE >= 0);
CREATE TYPE pair AS (a int, b text);
CREATE TYPE span AS RANGE (subtype = float8);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    note varchar(50) COLLATE "C",
    m mood DEFAULT 'ok',
    total price,
    ident int GENERATED ALWAYS AS IDENTITY,
    doubled int GENERATED ALWAYS AS (ident * 2) STORED,
    CONSTRAINT total_pos CHECK (total > 0)
);
CREATE INDEX orders_note_idx ON orders (note) WHERE note IS NOT NULL;
CREATE TABLE events (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON events (at);
CREATE TABLE lines (order_id bigint REFERENCES orders (id), n int, memo varchar(50));
CREATE UNLOGGED TABLE scratch (x int) WITH (fillfactor = 70);
CREATE VIEW big_orders AS SELECT id, note FROM orders WHERE total > 100;
CREATE MATERIALIZED VIEW order_counts AS SELECT m, count(*) FROM orders GROUP BY m;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER events_touch AFTER UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE PROCEDURE noop() LANGUAGE plpgsql AS $$BEGIN END$$;
DO $$BEGIN CREATE ROLE snapshot_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
GRANT SELECT ON orders TO snapshot_reader;
CREATE SCHEMA app;
CREATE TABLE app.schema_migrations (version bigint PRIMARY KEY);
CREATE TABLE app.flyway_schema_history (installed_rank serial PRIMARY KEY);
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.changes (id int);
CREATE TABLE app."Line Items" (id serial);
"""


@pytest.fixture(scope="module")
def server():
    with open_backend("embedded", pg_version=18) as server:
        yield server


@pytest.fixture(scope="module")
def rich(server):
    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)
        yield conninfo, take_snapshot(conn)


def attributes(snapshot, kind, identity):
    obj = snapshot.get(kind, identity)
    assert obj is not None, f"{kind} {identity} not in the snapshot: {sorted(snapshot.objects)}"
    return obj.attributes


def test_columns_carry_type_default_identity_generation_and_collation(rich):
    _, snap = rich
    note = attributes(snap, "column", "public.orders.note")
    assert (note["type"], note["collation"], note["nullability"]) == ("character varying(50)", 'pg_catalog."C"',
                                                                      "nullable")
    assert attributes(snap, "column", "public.orders.id")["default"] == "nextval('public.orders_id_seq'::regclass)"
    assert attributes(snap, "column", "public.orders.m")["default"] == "'ok'::public.mood"
    assert attributes(snap, "column", "public.orders.ident")["identity"] == "GENERATED ALWAYS AS IDENTITY"
    doubled = attributes(snap, "column", "public.orders.doubled")
    assert doubled["generated"] == "GENERATED ALWAYS AS ((ident * 2)) STORED" and doubled["default"] is None
    assert attributes(snap, "column", "public.orders.total")["type"] == "public.price"


def test_tables_constraints_indexes_sequences_and_types(rich):
    _, snap = rich
    assert attributes(snap, "table", "public.events")["partition key"] == "RANGE (at)"
    partition = attributes(snap, "table", "public.events_2024")
    assert partition["partition of"] == "public.events"
    assert partition["partition bound"] == "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
    scratch = attributes(snap, "table", "public.scratch")
    assert (scratch["persistence"], scratch["options"]) == ("UNLOGGED", ("fillfactor=70",))
    assert attributes(snap, "constraint", "lines_order_id_fkey on public.lines")["definition"] == \
        "FOREIGN KEY (order_id) REFERENCES public.orders(id)"
    assert attributes(snap, "index", "public.orders_note_idx") == {
        "definition": "CREATE INDEX orders_note_idx ON public.orders USING btree (note) WHERE (note IS NOT NULL)",
        "validity": "valid"}
    # The primary key's index is the constraint, not an index of its own.
    assert snap.get("index", "public.orders_pkey") is None and snap.get("constraint", "orders_pkey on public.orders")
    assert attributes(snap, "sequence", "public.orders_id_seq")["owned by"] == "public.orders.id"
    assert attributes(snap, "sequence", "public.orders_ident_seq")["owned by"] == "public.orders.ident (identity)"
    assert attributes(snap, "enum", "public.mood") == {"values": ("sad", "ok", "happy")}
    domain = attributes(snap, "domain", "public.price")
    assert (domain["type"], domain["nullability"], domain["default"]) == ("numeric(10,2)", "NOT NULL", "0")
    assert domain["constraints"] == ("price_check CHECK ((VALUE >= (0)::numeric))",)
    assert attributes(snap, "composite type", "public.pair") == {"attributes": ("a integer", "b text")}
    assert attributes(snap, "range type", "public.span") == {"subtype": "double precision"}
    assert "FROM public.orders" in attributes(snap, "view", "public.big_orders")["definition"]
    assert "GROUP BY m" in attributes(snap, "materialized view", "public.order_counts")["definition"]


def test_functions_triggers_grants(rich):
    _, snap = rich
    add = attributes(snap, "function", "public.add(a integer, b integer)")
    assert (add["arguments"], add["result"], add["volatility"]) == ("a integer, b integer DEFAULT 1", "integer",
                                                                    "IMMUTABLE")
    assert add["body"].startswith("md5 ")
    assert snap.get("procedure", "public.noop()") is not None
    # The range type's constructors belong to the type.
    assert not [o for o in snap.objects.values() if o.kind == "function" and "span" in o.identity]
    assert attributes(snap, "trigger", "orders_touch on public.orders")["definition"] == \
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()"
    assert snap.get("grant", "SELECT on public.orders to snapshot_reader") is not None
    assert not [o for o in snap.objects.values() if o.kind == "grant" and "postgres" in o.identity]


def test_partitions_copies_of_their_parents_objects_are_left_out(rich):
    _, snap = rich
    on_partition = [o.identity for o in snap.objects.values() if o.relation == "events_2024" and o.kind != "table"]
    assert on_partition == []
    assert snap.get("trigger", "events_touch on public.events") and snap.get("index", "public.events_at_idx")


def test_bookkeeping_tables_and_schemas_are_left_out_unless_asked(rich):
    conninfo, snap = rich
    assert snap.get("table", 'app."Line Items"') and snap.get("sequence", 'app."Line Items_id_seq"')
    names = {o.identity for o in snap.objects.values()}
    assert not {n for n in names if "schema_migrations" in n or "flyway" in n or "sqitch" in n}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        everything = take_snapshot(conn, ignore_bookkeeping=False)
        only_app = take_snapshot(conn, schemas=["app"])
    assert everything.get("table", "app.schema_migrations") and everything.get("schema", "sqitch")
    assert everything.get("sequence", "app.flyway_schema_history_installed_rank_seq")
    assert {o.schema for o in only_app.objects.values() if o.kind != "extension"} == {"app"}


def test_snapshot_runs_in_its_own_read_only_transaction_or_the_callers(rich):
    conninfo, _ = rich
    with psycopg.connect(conninfo, autocommit=True) as conn:
        take_snapshot(conn)
        assert conn.info.transaction_status == TransactionStatus.IDLE
        conn.execute("BEGIN")
        conn.execute("SET LOCAL search_path = app")
        take_snapshot(conn)
        assert conn.info.transaction_status == TransactionStatus.INTRANS
        assert conn.execute("SELECT current_setting('search_path')").fetchone()[0] == "app"
        conn.execute("ROLLBACK")
    with psycopg.connect(conninfo) as conn:  # not autocommit: the transaction psycopg opened is ended
        take_snapshot(conn)
        assert conn.info.transaction_status == TransactionStatus.IDLE


CHANGES = """
CREATE INDEX orders_m_idx ON orders (m);
ALTER TABLE lines ALTER COLUMN memo TYPE text;
ALTER TABLE orders ALTER COLUMN m SET DEFAULT 'happy';
ALTER TABLE lines DROP COLUMN n;
ALTER TYPE mood ADD VALUE 'meh';
ALTER TABLE orders DROP CONSTRAINT total_pos;
CREATE TABLE audit (id serial PRIMARY KEY, what text);
CREATE OR REPLACE FUNCTION add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b + 0';
ALTER TABLE orders DISABLE TRIGGER orders_touch;
REVOKE SELECT ON orders FROM snapshot_reader;
"""


def test_diff_names_each_difference_in_words(server, rich):
    _, before = rich
    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(CHANGES)
        after = take_snapshot(conn)
    found = diff(before, after, labels=("the migrations", "the database"))
    assert [d.message for d in found] == [
        "enum public.mood: value 'meh' is only in the database",
        "table public.audit is only in the database",
        "column public.lines.memo: type character varying(50) in the migrations, text in the database",
        "column public.lines.n is only in the migrations",
        "column public.orders.m: default 'ok'::public.mood in the migrations, 'happy'::public.mood in the database",
        "constraint total_pos on public.orders is only in the migrations",
        "index public.orders_m_idx is only in the database",
        "function public.add(a integer, b integer): body "
        f"{before.get('function', 'public.add(a integer, b integer)').attributes['body']} in the migrations, "
        f"{after.get('function', 'public.add(a integer, b integer)').attributes['body']} in the database",
        "trigger orders_touch on public.orders: enabled in the migrations, disabled in the database",
        "grant SELECT on public.orders to snapshot_reader is only in the migrations",
    ]
    changed = next(d for d in found if d.identity == "public.lines.memo")
    assert changed.to_json() == {"kind": "column", "identity": "public.lines.memo", "change": "changed",
                                 "message": changed.message, "attribute": "type",
                                 "before": "character varying(50)", "after": "text"}
    assert [d.change for d in found if d.kind == "table"] == ["added"]
    assert diff(before, before) == []


def test_a_function_body_indented_again_is_the_same_body(server):
    snaps = []
    for body in ("BEGIN\n  RETURN NEW;\nEND", "\n    BEGIN\n        RETURN  NEW;\n    END\n"):
        with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
            snaps.append(take_snapshot(conn))
    assert diff(*snaps) == []
    assert snaps[0].get("function", "public.touch()").attributes["body"].startswith("md5 ")


def test_enum_values_in_another_order(server):
    snaps = []
    for values in ("'a', 'b'", "'b', 'a'"):
        with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE TYPE letter AS ENUM ({values})")
            snaps.append(take_snapshot(conn))
    assert [d.message for d in diff(*snaps)] == [
        "enum public.letter: values in the order 'a', 'b' in before, 'b', 'a' in after"]


def test_the_same_schema_on_postgresql_12_reads_the_same_but_for_view_text(rich):
    """The catalog queries differ by major (trigger clones, SQL-standard bodies); view text does too."""
    _, on_18 = rich
    with start(conftest.spec_for(12)) as old, psycopg.connect(old.uri, autocommit=True) as conn:
        conn.execute(SCHEMA)
        on_12 = take_snapshot(conn)
    assert on_12.major == 12 and on_18.major == 18
    found = diff(on_12, on_18)
    assert {(d.kind, d.identity, d.attribute) for d in found} == {
        ("view", "public.big_orders", "definition"), ("materialized view", "public.order_counts", "definition")}
