"""Every plan, run on PostgreSQL 18 while an application workload runs.

Each scenario builds a small live schema (a few thousand rows), writes the plan into a
migration folder of one format, and runs the planned files one by one as that format's tool
would. Meanwhile a workload thread runs the queries of the application version that is live
at that point. The test asserts that:

* no workload query queues behind a step that waits for a lock (seen from the server, on a
  session of its own), and none fails;
* after each step, every application version that may be running then (the current one, and
  the next one when a deploy follows) still gets answers to all its queries;
* data is kept: after the backfill the new column matches the old one, rows the workload does
  not touch are unchanged at the end, and the row count only grows by the rows inserted.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from migrasafe.config import Config
from migrasafe.plan.planner import prepare, write
from migrasafe.plan.steps import Settings
from migrasafe.replay.servers import available_servers

from plan_replay import Query, Workload, read_folder, run_file, run_queries

pytestmark = pytest.mark.xdist_group("pg18")

ROWS = 3000

SETUP = f"""
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 200) AS g;
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    email text,
    score integer NOT NULL DEFAULT 0,
    customer_id bigint REFERENCES customers (id),
    legacy text NOT NULL
);
INSERT INTO users (name, email, score, customer_id, legacy)
SELECT 'user ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'u' || g || '@example.com' END, g, g % 200 + 1,
       'legacy ' || g
FROM generate_series(1, {ROWS}) AS g;
CREATE INDEX users_name_idx ON users (name);
CREATE TABLE audit (id bigserial PRIMARY KEY, user_id bigint NOT NULL, note text);
INSERT INTO audit (user_id, note) SELECT g, 'note ' || g FROM generate_series(1, 500) AS g;
"""

def app(select: str, update: str, insert_columns: str, insert_values: str, count: str) -> list[Query]:
    """One application version's queries on the users table."""
    return [
        Query(f"SELECT {select} FROM users WHERE id = {{id}}"),
        Query(f"UPDATE users SET {update}, score = score + 1 WHERE id = {{id}}"),
        Query(f"INSERT INTO users ({insert_columns}) VALUES ({insert_values})", inserts=True),
        Query(f"SELECT count(*) FROM users WHERE {count} >= 'user 1' AND {count} < 'user 2'"),
    ]


EMAIL = "'n{n}-' || gen_random_uuid() || '@example.com'"
USERS_APP = app("id, name, email, score, customer_id, legacy", "name = 'renamed {n}'",
                "name, email, score, customer_id, legacy", f"'new {{n}}', {EMAIL}, {{id}}, 1, 'l'", "name")


@dataclass
class Scenario:
    operation: str
    arguments: dict
    format: str
    # Application versions: apps[0] runs before the first deploy, apps[k] after deploy k.
    apps: list[list[Query]]
    # (query, expected first value) right after the backfill step.
    after_backfill: list[tuple[str, object]] = field(default_factory=list)
    final: list[tuple[str, object]] = field(default_factory=list)
    # Rows the workload never touches (ids 101..ROWS), read before and after; None: not compared.
    preserved: tuple[str, str] | None = None
    counted: str = "users"  # the table whose rows the apps insert
    settings: Settings = field(default_factory=lambda: Settings(batch_size=500))

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.format}"


def notnull(table: str, column: str) -> str:
    return (f"SELECT attnotnull FROM pg_attribute WHERE attrelid = '{table}'::regclass "
            f"AND attname = '{column}' AND NOT attisdropped")


def valid_index(name: str) -> str:
    return f"SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '{name}' AND i.indisvalid"


def column_count(table: str, column: str) -> str:
    return f"SELECT count(*) FROM information_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'"


UNTOUCHED = "WHERE id > 100 AND id <= %d ORDER BY id" % ROWS


def rename_column(fmt: str) -> Scenario:
    return Scenario(
        "rename-column", {"column": "users.name", "new_name": "full_name"}, fmt,
        apps=[USERS_APP, app("id, full_name, email, score", "full_name = 'renamed {n}'",
                             "full_name, email, score, customer_id, legacy",
                             f"'new {{n}}', {EMAIL}, {{id}}, 1, 'l'", "full_name")],
        after_backfill=[("SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name", 0)],
        final=[(column_count("users", "name"), 0), (notnull("users", "full_name"), True),
               (valid_index("users_full_name_idx"), 1), ("SELECT count(*) FROM users WHERE full_name IS NULL", 0)],
        preserved=(f"SELECT id, name FROM users {UNTOUCHED}", f"SELECT id, full_name FROM users {UNTOUCHED}"),
    )


SCENARIOS = [rename_column(fmt) for fmt in ("golang-migrate", "sql", "flyway", "dbmate", "diesel", "alembic")] + [
    Scenario(
        "rename-table", {"table": "users", "new_name": "people"}, "flyway",
        apps=[USERS_APP, [Query(q.sql.replace("users", "people"), q.inserts) for q in USERS_APP]],
        final=[("SELECT count(*) FROM pg_views WHERE viewname = 'users'", 0),
               ("SELECT relkind::text FROM pg_class WHERE relname = 'people'", "r")],
        preserved=(f"SELECT id, name, email FROM users {UNTOUCHED}", f"SELECT id, name, email FROM people {UNTOUCHED}"),
        counted="people",
    ),
    Scenario(
        "change-column-type", {"column": "users.score", "type": "bigint"}, "golang-migrate",
        apps=[USERS_APP],
        after_backfill=[("SELECT count(*) FROM users WHERE score_new IS DISTINCT FROM score::bigint", 0)],
        final=[("SELECT data_type FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'score'",
                "bigint"), (notnull("users", "score"), True), (column_count("users", "score_new"), 0),
               ("SELECT column_default FROM information_schema.columns WHERE table_name = 'users' "
                "AND column_name = 'score'", "0")],
        preserved=(f"SELECT id, score::bigint FROM users {UNTOUCHED}", f"SELECT id, score FROM users {UNTOUCHED}"),
    ),
    Scenario(
        "set-not-null", {"column": "users.email", "backfill": "'unknown@example.com'"}, "sql",
        apps=[USERS_APP + [Query("INSERT INTO users (name, score, legacy) VALUES ('no email {n}', 1, 'l')",
                                 inserts=True)], USERS_APP],
        after_backfill=[("SELECT count(*) FROM users WHERE email IS NULL", 0)],
        final=[(notnull("users", "email"), True),
               (f"SELECT count(*) FROM users WHERE id > 100 AND id <= {ROWS} AND email = 'unknown@example.com'",
                (ROWS - 100) // 10)],
        preserved=(f"SELECT id, email FROM users WHERE id > 100 AND id <= {ROWS} AND id % 10 <> 0 ORDER BY id",
                   f"SELECT id, email FROM users WHERE id > 100 AND id <= {ROWS} AND id % 10 <> 0 ORDER BY id"),
    ),
    Scenario(
        "add-not-null-column", {"column": "users.status", "type": "text", "default": "'active'"}, "sql",
        apps=[USERS_APP],
        final=[(notnull("users", "status"), True), ("SELECT count(*) FROM users WHERE status <> 'active'", 0)],
        preserved=(f"SELECT id, name FROM users {UNTOUCHED}", f"SELECT id, name FROM users {UNTOUCHED}"),
    ),
    Scenario(
        "add-not-null-column", {"column": "users.tier", "type": "text", "backfill": "'free'"}, "flyway",
        apps=[USERS_APP, app("id, name, tier", "name = 'renamed {n}'", "name, email, score, customer_id, legacy, tier",
                             f"'new {{n}}', {EMAIL}, {{id}}, 1, 'l', 'paid'", "name")],
        after_backfill=[("SELECT count(*) FROM users WHERE tier IS NULL", 0)],
        final=[(notnull("users", "tier"), True),
               (f"SELECT count(*) FROM users WHERE id <= {ROWS} AND tier = 'free'", ROWS)],
    ),
    Scenario(
        "add-column-with-volatile-default",
        {"column": "users.token", "type": "uuid", "default": "gen_random_uuid()", "not_null": True}, "dbmate",
        apps=[USERS_APP],
        after_backfill=[("SELECT count(*) FROM users WHERE token IS NULL", 0)],
        final=[(notnull("users", "token"), True),
               ("SELECT count(DISTINCT token) = count(*) FROM users", True)],
        preserved=(f"SELECT id, name FROM users {UNTOUCHED}", f"SELECT id, name FROM users {UNTOUCHED}"),
    ),
    Scenario(
        "add-foreign-key", {"columns": "audit.user_id", "references": "users"}, "dbmate",
        apps=[USERS_APP + [Query("INSERT INTO audit (user_id, note) VALUES ({id}, 'n')", inserts=False),
                           Query("SELECT count(*) FROM audit WHERE user_id = {id}")]],
        final=[("SELECT convalidated FROM pg_constraint WHERE conname = 'audit_user_id_fkey'", True),
               (valid_index("audit_user_id_idx"), 1)],
    ),
    Scenario(
        "add-unique", {"columns": "users.email"}, "golang-migrate",
        apps=[USERS_APP],
        final=[("SELECT contype::text FROM pg_constraint WHERE conname = 'users_email_key'", "u")],
        preserved=(f"SELECT id, email FROM users {UNTOUCHED}", f"SELECT id, email FROM users {UNTOUCHED}"),
    ),
    Scenario(
        "add-check", {"table": "users", "expression": "score >= 0", "name": "users_score_positive"}, "flyway",
        apps=[USERS_APP],
        final=[("SELECT convalidated FROM pg_constraint WHERE conname = 'users_score_positive'", True)],
    ),
    Scenario(
        "add-index", {"columns": "users.email,score"}, "sql",
        apps=[USERS_APP],
        final=[(valid_index("users_email_score_idx"), 1)],
    ),
    Scenario(
        "drop-column", {"column": "users.legacy"}, "diesel",
        apps=[USERS_APP, app("id, name, email", "name = 'renamed {n}'", "name, email, score, customer_id",
                             f"'new {{n}}', {EMAIL}, {{id}}, 1", "name")],
        final=[(column_count("users", "legacy"), 0)],
        preserved=(f"SELECT id, name FROM users {UNTOUCHED}", f"SELECT id, name FROM users {UNTOUCHED}"),
    ),
    Scenario(
        "drop-table", {"table": "customers"}, "golang-migrate",
        apps=[USERS_APP + [Query("SELECT name FROM customers WHERE id = {id}")],
              app("id, name, email", "name = 'renamed {n}'", "name, email, score, legacy",
                  f"'new {{n}}', {EMAIL}, {{id}}, 'l'", "name")],
        final=[("SELECT count(*) FROM pg_class WHERE relname = 'customers'", 0)],
        preserved=(f"SELECT id, name FROM users {UNTOUCHED}", f"SELECT id, name FROM users {UNTOUCHED}"),
    ),
]


ALEMBIC_FIRST = "0a1b2c3d4e5f"


def alembic_upgrade(database: str, folder: Path):
    """`alembic upgrade REVISION` for the project in `folder`, on `database`."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.engine import URL

    info = psycopg.conninfo.conninfo_to_dict(database)
    url = URL.create("postgresql+psycopg", username=info.get("user"), database=info["dbname"],
                     query={"host": info["host"]})
    config = AlembicConfig(str(folder / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    config.set_main_option("script_location", str(folder / "migrations"))
    return lambda revision: command.upgrade(config, revision)


def first_migration(folder: Path, fmt: str) -> None:
    if fmt == "alembic":
        from test_plan import alembic_history

        alembic_history(folder, SETUP)
    elif fmt == "sql":
        (folder / "001_init.sql").write_text(SETUP)
    elif fmt == "flyway":
        (folder / "V1__init.sql").write_text(SETUP)
    elif fmt == "golang-migrate":
        (folder / "000001_init.up.sql").write_text(SETUP)
        (folder / "000001_init.down.sql").write_text("DROP TABLE audit, users, customers;\n")
    elif fmt == "dbmate":
        (folder / "20240101000000_init.sql").write_text("-- migrate:up\n" + SETUP + "\n-- migrate:down\n")
    elif fmt == "diesel":
        (folder / "2024-01-01-000000_init").mkdir()
        (folder / "2024-01-01-000000_init" / "up.sql").write_text(SETUP)
        (folder / "2024-01-01-000000_init" / "down.sql").write_text("DROP TABLE audit, users, customers;\n")


@pytest.fixture(scope="module")
def server(server_pool):
    """PostgreSQL 18 from the embedded wheel, shared with the other tests of this worker."""
    spec = next(s for s in available_servers() if s.major == 18)
    return server_pool.get(spec)


@pytest.fixture
def database(server):
    """A fresh database on the shared server; its URI."""
    name = "plan_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    conninfo = psycopg.conninfo.conninfo_to_dict(server.uri)
    conninfo["dbname"] = name
    yield psycopg.conninfo.make_conninfo(**conninfo)
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def first(conn, sql):
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_plan_runs_under_load(scenario: Scenario, database: str, tmp_path: Path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    first_migration(folder, scenario.format)
    prepared = prepare(str(folder), scenario.operation, scenario.arguments, Config(), scenario.settings,
                       now=datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc))
    assert prepared.findings == [], [f"{f.path}:{f.line} {f.rule} {f.message}" for f in prepared.findings]
    write(prepared)
    if scenario.format == "alembic":
        upgrade = alembic_upgrade(database, folder)
        setup = lambda conn: upgrade(ALEMBIC_FIRST)  # noqa: E731
        planned = [lambda conn, revision=m.version: upgrade(revision) for m in prepared.migrations]
    else:
        migrations = read_folder(folder, scenario.format)
        files = [migrations[str((folder / m.main).resolve())] for m in prepared.migrations]
        first_file = [m for m in migrations.values() if m not in files]
        assert len(first_file) == 1
        setup = lambda conn: run_file(conn, first_file[0])  # noqa: E731
        planned = [lambda conn, migration=m: run_file(conn, migration) for m in files]

    rng = random.Random(1)
    with psycopg.connect(database, autocommit=True) as conn:
        setup(conn)
        before = conn.execute(scenario.preserved[0]).fetchall() if scenario.preserved else None
        inserted = 0
        steps = prepared.plan.steps
        phase = 0
        live = _live_apps(scenario, steps, -1, phase)
        for queries in live:
            inserted += run_queries(conn, queries, rng)
        with Workload(database) as workload:
            for index, (step, migration) in enumerate(zip(steps, planned)):
                if step.deploy:
                    phase += 1
                workload.switch(scenario.apps[phase])
                executed = workload.count()
                migration(conn)
                assert workload.errors == [], f"step {index + 1} ({step.title}): {workload.errors[:3]}"
                if step.kind == "backfill":
                    for sql, expected in scenario.after_backfill:
                        assert first(conn, sql) == expected, (step.title, sql)
                # The applications that may be running now: this one, and the next during its deploy.
                for queries in _live_apps(scenario, steps, index, phase):
                    inserted += run_queries(conn, queries, rng)
                _wait_for_progress(workload, executed)
        assert workload.errors == [], workload.errors[:3]
        # Nothing else holds locks here, so a step only forms a queue if it waits for a lock the
        # workload's own queries hold: a step without lock_timeout, or one that scans under it.
        assert workload.samples > 0
        assert workload.queued == [], f"the workload queued behind a waiting step: {workload.queued[:3]}"
        inserted += workload.inserted
        for sql, expected in scenario.final:
            assert first(conn, sql) == expected, sql
        if scenario.preserved:
            assert conn.execute(scenario.preserved[1]).fetchall() == before
        assert first(conn, f"SELECT count(*) FROM {scenario.counted}") == ROWS + inserted


def _live_apps(scenario: Scenario, steps, index: int, phase: int) -> list[list[Query]]:
    live = [scenario.apps[phase]]
    following = steps[index + 1] if index + 1 < len(steps) else None
    if following is not None and following.deploy:
        live.append(scenario.apps[phase + 1])
    return live


def _wait_for_progress(workload: Workload, since: int) -> None:
    """Let the workload run a few queries against the new schema before the next step."""
    import time

    deadline = time.monotonic() + 5
    while workload.count() < since + 5 and time.monotonic() < deadline:
        time.sleep(0.005)


def _blocked_step(database: str, statement_file, until: str):
    """Run `statement_file(conn)` on its own connection while another transaction reads users and
    holds its AccessShareLock, with the workload running. The reader lets go once `until` is
    seen: "ended" (the step returned or raised) or "queued" (the workload was seen queued behind
    the waiting step), each with a generous deadline. Returns (the error the step raised or None,
    the workload, the sample number at which the step ended while the reader held, or None)."""
    import threading

    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def blocker():
        with psycopg.connect(database) as conn:
            conn.execute("SELECT count(*) FROM users")  # AccessShareLock until the transaction ends
            holding.set()
            release.wait(120)
            conn.rollback()

    def step():
        with psycopg.connect(database, autocommit=True) as conn:
            try:
                statement_file(conn)
            except psycopg.Error as err:
                outcome["error"] = err

    with Workload(database) as workload:
        workload.switch(USERS_APP)
        reader = threading.Thread(target=blocker)
        reader.start()
        assert holding.wait(30)
        running = threading.Thread(target=step)
        running.start()
        ended_at = None
        try:
            if until == "ended":
                running.join(60)
                assert not running.is_alive(), "the step did not end while the reader held its lock"
                ended_at = workload.sample_number() + 1  # the sample in flight may predate the end
                # The reader still holds its lock: the workload gets on, and is not queued.
                executed = workload.count()
                assert workload.wait_for(lambda: workload.count() >= executed + 5
                                         and workload.sample_number() >= ended_at + 5)
            else:
                assert workload.wait_for(lambda: workload.queued != [] or not running.is_alive())
                assert running.is_alive(), "the step ended while the reader held its lock"
        finally:
            release.set()
            reader.join()
            running.join(60)
        _wait_for_progress(workload, workload.count())
    return outcome.get("error"), workload, ended_at


def test_a_blocked_step_gives_up_at_its_lock_timeout_and_reruns(database: str, tmp_path: Path):
    """Behind a long reader, a planned step times out instead of queueing the workload behind it;
    after the reader ends, running the same file again succeeds."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    first_migration(folder, "golang-migrate")
    prepared = prepare(str(folder), "rename-column", {"column": "users.name", "new_name": "full_name"}, Config(),
                       Settings(lock_timeout="300ms"))
    write(prepared)
    migrations = read_folder(folder, "golang-migrate")
    expand = migrations[str((folder / prepared.migrations[0].main).resolve())]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SETUP)
    error, workload, ended_at = _blocked_step(database, lambda conn: run_file(conn, expand), until="ended")
    assert isinstance(error, psycopg.errors.LockNotAvailable), error
    assert workload.errors == []
    # Queued behind the step while it waited (up to its lock_timeout), no longer once it gave up.
    assert workload.queued_since(ended_at) == []
    with psycopg.connect(database, autocommit=True) as conn:
        assert first(conn, column_count("users", "full_name")) == 0  # rolled back as a whole
        run_file(conn, expand)
        assert first(conn, column_count("users", "full_name")) == 1


def test_the_observation_catches_a_step_without_lock_timeout(database: str, tmp_path: Path):
    """The same change without lock_timeout queues every workload query behind it until the reader
    ends: the observation the plans are held to sees the workload queued behind it."""
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SETUP)
    error, workload, _ = _blocked_step(
        database, lambda conn: conn.execute("ALTER TABLE users ADD COLUMN full_name text"), until="queued")
    assert error is None
    assert workload.queued and all("ADD COLUMN full_name" in query for _, _, query in workload.queued)
