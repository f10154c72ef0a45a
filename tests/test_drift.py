"""`migrasafe drift` against real databases: one built from the migrations and then changed by
hand, one built from them alone, and inputs it cannot use."""
from __future__ import annotations

import hashlib
import json

import psycopg
import pytest

from migrasafe.cli import main
from migrasafe.drift import live as live_module
from migrasafe.drift.server import choice_of, throwaway_server
from migrasafe.replay.backends import open_backend

STATUS_VALUES = ("new", "paid", "shipped")
OLD_BODY = " SELECT 0::numeric "
NEW_BODY = " SELECT 1::numeric "
MIGRATIONS = {
    "1_orders.sql": f"""CREATE TYPE order_status AS ENUM ({", ".join(f"'{v}'" for v in STATUS_VALUES)});
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note varchar(50),
    status order_status NOT NULL DEFAULT 'new',
    legacy_code text
);
""",
    "2_index_and_total.sql": f"""CREATE INDEX orders_status_idx ON orders (status);
CREATE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql STABLE AS $${OLD_BODY}$$;
GRANT SELECT ON orders TO drift_reporting;
""",
}
# What changed on the live database by hand: each is one difference, nothing else is.
DRIFT = f"""
ALTER TYPE order_status RENAME TO order_status_full;
CREATE TYPE order_status AS ENUM ('new', 'paid');
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::text::order_status;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';
DROP TYPE order_status_full;
CREATE INDEX orders_note_idx ON orders (note);
ALTER TABLE orders ALTER COLUMN note TYPE text;
ALTER TABLE orders DROP COLUMN legacy_code;
CREATE TABLE audit_log (id serial PRIMARY KEY, entry text);
CREATE OR REPLACE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql STABLE AS $${NEW_BODY}$$;
"""
# A migration tool's own table is in every migrated database and never a difference.
BOOKKEEPING = "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"


def md5(body: str) -> str:
    """A body's digest as drift prints it: md5 of the text with its whitespace runs made single spaces."""
    return "md5 " + hashlib.md5(" ".join(body.split()).encode()).hexdigest()[:12]


@pytest.fixture(scope="module")
def migrations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drift") / "migrations"
    folder.mkdir()
    for name, text in MIGRATIONS.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def live_server():
    with open_backend("embedded", pg_version=18) as server:
        # A role the migrations grant to and do not create, as roles usually are.
        with psycopg.connect(server.admin_conninfo, autocommit=True) as conn:
            conn.execute("CREATE ROLE drift_reporting")
        yield server


def build(conninfo: str, *extra: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for text in [*MIGRATIONS.values(), BOOKKEEPING, *extra]:
            conn.execute(text)


@pytest.fixture(scope="module")
def drifted(live_server):
    with live_server.database() as conninfo:
        build(conninfo, DRIFT)
        yield conninfo


@pytest.fixture(scope="module")
def clean(live_server):
    with live_server.database() as conninfo:
        build(conninfo)
        yield conninfo


@pytest.fixture
def same_server(monkeypatch, live_server):
    """The migrations are applied on the live database's server (in a database of their own), which
    saves starting a server per run where the run's effect on the server is not what is tested."""
    import contextlib

    from migrasafe.drift import server as server_module

    @contextlib.contextmanager
    def reuse(live_major, live_version):
        yield live_server, server_module.choice(live_server, live_major, live_version)

    monkeypatch.setattr(server_module, "throwaway_server", reuse)


def drift(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["drift", *args])
    out, err = capsys.readouterr()
    return code, out, err


class Watch:
    """Every statement sent to one database, and its session's read-only settings while read."""

    def __init__(self, monkeypatch, dbname: str):
        self.statements: list[str] = []
        self.read_only: list[tuple[str, str]] = []
        original_execute = psycopg.Connection.execute
        original_snapshot = live_module.take_snapshot

        def execute(conn, query, *args, **kwargs):
            if conn.info.dbname == dbname:
                self.statements.append(str(query))
            return original_execute(conn, query, *args, **kwargs)

        def snapshot(conn, **kwargs):
            self.read_only.append(original_execute(conn, "SELECT current_setting('transaction_read_only'), "
                                                         "current_setting('default_transaction_read_only')").fetchone())
            return original_snapshot(conn, **kwargs)

        monkeypatch.setattr(psycopg.Connection, "execute", execute)
        monkeypatch.setattr(live_module, "take_snapshot", snapshot)


def fingerprint(conninfo: str) -> tuple:
    """What any write would change: the next transaction id, row counters and the catalog rows."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("""
            SELECT pg_snapshot_xmax(pg_current_snapshot())::text,
                   (SELECT (tup_inserted, tup_updated, tup_deleted)::text FROM pg_stat_database
                    WHERE datname = current_database()),
                   (SELECT md5(string_agg(oid::text || relname || relfilenode || xmin::text, ',' ORDER BY oid))
                    FROM pg_class),
                   (SELECT md5(string_agg(attrelid::text || attname || atttypid || xmin::text, ','
                                          ORDER BY attrelid, attnum)) FROM pg_attribute)""").fetchone()


def test_each_hand_made_change_is_one_difference_and_the_live_database_is_only_read(
        capsys, monkeypatch, migrations, drifted):
    dbname = psycopg.conninfo.conninfo_to_dict(drifted)["dbname"]
    before = fingerprint(drifted)
    watch = Watch(monkeypatch, dbname)
    code, out, err = drift(capsys, "--dsn", drifted, str(migrations))
    monkeypatch.undo()
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert [line for line in lines if line[:2] in ("- ", "+ ", "~ ")] == [
        "- enum public.order_status: value 'shipped' is only in the migrations",
        "+ table public.audit_log is only in the database",
        "- column public.orders.legacy_code is only in the migrations",
        "~ column public.orders.note: type character varying(50) in the migrations, text in the database",
        "+ index public.orders_note_idx is only in the database",
        f"~ function public.order_total(o bigint): body {md5(OLD_BODY)} in the migrations, "
        f"{md5(NEW_BODY)} in the database",
    ]
    assert lines[1] == "applied on: PostgreSQL 18" + lines[1].split("PostgreSQL 18", 1)[1]
    assert lines[1].endswith("the live server's major")
    assert lines[3].startswith("roles of the live server made first") and lines[3].endswith(": drift_reporting")
    assert lines[-1].startswith("6 differences: 2 only in the migrations, 2 only in the database, 2 changed")
    # Read only: the session and its one transaction, and nothing else sent.
    assert fingerprint(drifted) == before
    assert watch.read_only == [("on", "on")]
    sent = watch.statements
    assert sent[:3] == ["SET default_transaction_read_only = on", "SET statement_timeout = 30000",
                        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"]
    assert sent[-1] == "ROLLBACK"
    assert all(s.lstrip().startswith("SELECT") for s in sent[3:-1]), sent
    assert "pg_roles" in sent[-2]


def test_json_lists_the_same_differences_as_data(capsys, same_server, migrations, drifted):
    code, out, _ = drift(capsys, "--dsn", drifted, "--format", "json", str(migrations))
    assert code == 1
    report = json.loads(out)
    assert (report["drift"], report["complete"], report["failures"]) == (True, True, [])
    assert report["counts"] == {"missing": 2, "extra": 2, "changed": 2}
    by_identity = {d["identity"]: d for d in report["differences"]}
    assert by_identity["public.orders.note"] == {
        "kind": "column", "identity": "public.orders.note", "change": "changed", "attribute": "type",
        "before": "character varying(50)", "after": "text",
        "message": "column public.orders.note: type character varying(50) in the migrations, text in the database"}
    assert by_identity["public.order_status"]["before"] == "shipped"
    assert sorted(by_identity) == ["public.audit_log", "public.order_status", "public.order_total(o bigint)",
                                   "public.orders.legacy_code", "public.orders.note", "public.orders_note_idx"]


def test_a_database_built_by_the_migrations_has_no_drift(capsys, same_server, migrations, clean):
    code, out, err = drift(capsys, "--dsn", clean, "--format", "markdown", str(migrations))
    assert (code, err) == (0, "")
    assert "| only in" not in out and "| changed" not in out
    assert out.splitlines()[-1].startswith("**no drift (")


def test_a_migration_that_fails_on_the_throwaway_server_is_named_and_nothing_is_claimed(
        capsys, same_server, tmp_path, clean):
    for name, text in MIGRATIONS.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "3_broken.sql").write_text("-- depends on a table created by hand somewhere\n"
                                           "ALTER TABLE invoices ADD COLUMN paid_at timestamptz;\n")
    code, out, _ = drift(capsys, "--dsn", clean, str(tmp_path))
    assert code == 2
    assert (f"{tmp_path / '3_broken.sql'}:2: failed on the throwaway server: "
            '42P01: relation "invoices" does not exist') in out.splitlines()
    assert "incomplete: 1 thing did not apply, so this is not the schema the migrations build" in out.splitlines()[-1]


def test_inputs_it_cannot_use_are_exit_2_with_a_message(capsys, tmp_path, clean):
    code, out, err = drift(capsys, "--dsn", "postgresql://nobody@127.0.0.1:1/shop", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.startswith("migrasafe: drift: cannot connect to --dsn: ") and "Traceback" not in err
    (tmp_path / "1_bad.sql").write_text("CREATE TABLE ok (id int);\nCREATE TABLE (;\n")
    code, out, err = drift(capsys, "--dsn", clean, str(tmp_path))
    assert (code, out) == (2, "")
    assert f"{tmp_path / '1_bad.sql'}:2:" in err and "Traceback" not in err
    code, _, err = drift(capsys, "--dsn", clean, str(tmp_path / "missing"))
    assert code == 2 and "missing" in err


def test_the_throwaway_server_is_of_the_live_major_when_installed():
    import conftest

    conftest.spec_for(16)  # installed on first use, as the suite's other servers
    with throwaway_server(16, "16.9") as (server, why):
        assert server.major == 16
        assert why.startswith(f"PostgreSQL {server.version} (") and why.endswith("the live server's major")
    told = choice_of(18, "18.1", 11, "11.22", "PostgreSQL 18.1 (embedded wheel)")
    assert told.startswith("PostgreSQL 18.1 (embedded wheel): the live server's major, 11 (11.22), "
                           "is not a major migrasafe supports")
