"""`replay --backend dsn` runs on a server that is not migrasafe's: statements that reach outside
the replay's throwaway database are reported and never run there, and the replay goes on."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pglast import parse_sql
from psycopg.conninfo import make_conninfo

from migrasafe.replay.backends import open_backend
from migrasafe.replay.outside import reaches_outside
from replay_helpers import replay, write_migrations

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = """DROP DATABASE IF EXISTS other;
CREATE ROLE intruder LOGIN;
ALTER ROLE app SUPERUSER;
ALTER ROLE app SET work_mem = '77MB';
ALTER SYSTEM SET work_mem = '77MB';
SELECT pg_reload_conf();
CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);
COPY items (name) FROM PROGRAM 'echo pwned > /tmp/migrasafe-dsn-pwned';
DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'other'; END $$;
GRANT app TO intruder;
COMMENT ON DATABASE other IS 'taken';
CREATE INDEX items_name_idx ON items (name);
"""
NOT_RUN_LINES = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11]


@pytest.fixture(scope="module")
def users_server():
    """An embedded server standing in for the user's own: a database with rows, a role, settings."""
    with open_backend("embedded", pg_version=18) as server:
        with psycopg.connect(server.admin_conninfo, autocommit=True) as conn:
            conn.execute("CREATE DATABASE other")
            conn.execute("CREATE DATABASE scratch")
            conn.execute("CREATE ROLE app NOLOGIN")
        with psycopg.connect(make_conninfo(server.admin_conninfo, dbname="other"), autocommit=True) as conn:
            conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text)")
            conn.execute("INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 250) g")
        yield server


def server_state(conninfo: str) -> dict:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        state = {
            "databases": sorted(n for (n,) in conn.execute("SELECT datname FROM pg_database")),
            "roles": sorted(n for (n,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'")),
            "app": conn.execute("SELECT rolsuper, rolconfig FROM pg_roles WHERE rolname = 'app'").fetchone(),
            "role settings": conn.execute("SELECT count(*) FROM pg_db_role_setting").fetchone()[0],
            "auto.conf": conn.execute("SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem'").fetchone()[0],
            "work_mem": conn.execute("SHOW work_mem").fetchone()[0],
            "comment": conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                    "WHERE datname = 'other'").fetchone(),
        }
    with psycopg.connect(make_conninfo(conninfo, dbname="other")) as conn:
        state["rows"] = conn.execute("SELECT count(*), sum(id) FROM accounts").fetchone()
    return state


def test_statements_reaching_outside_are_not_run_and_the_replay_goes_on(users_server, tmp_path):
    before = server_state(users_server.admin_conninfo)
    assert before["rows"] == (250, 250 * 251 // 2) and "app" in before["roles"]
    folder = write_migrations(tmp_path / "m", HOSTILE)
    scratch = make_conninfo(users_server.admin_conninfo, dbname="scratch")
    done = subprocess.run(
        [sys.executable, "-m", "migrasafe", "replay", str(folder), "--backend", "dsn", "--dsn", scratch,
         "--rows", "200", "--sizes", "200", "--no-probes", "--no-progress", "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    after = server_state(users_server.admin_conninfo)
    assert after == before  # the other database and its rows, the roles, the settings: all untouched
    assert "intruder" not in after["roles"]
    assert not Path("/tmp/migrasafe-dsn-pwned").exists()
    (migration,) = report["migrations"]
    by_line = {s["line"]: s for s in migration["statements"]}
    not_run = sorted(line for line, s in by_line.items()
                     if any(f["rule"] == "MS098" and "not run on the --dsn server" in f["message"] for f in s["findings"]))
    assert not_run == NOT_RUN_LINES
    messages = {line: next(f["message"] for f in by_line[line]["findings"] if f["rule"] == "MS098") for line in not_run}
    assert "drops database other" in messages[1]
    assert "creates role intruder" in messages[2]
    assert "configuration (work_mem)" in messages[5]
    assert "runs the program" in messages[8]
    assert "pg_terminate_backend" in messages[9]
    # The replay went on: the statements staying in the replay database ran and were measured.
    assert by_line[7]["observed"] is not None and "error" not in by_line[7]["observed"]
    assert by_line[12]["observed"]["locks"] == [{"relation": "public.items", "mode": "ShareLock"}]
    assert "error" not in by_line[12]["observed"]
    for line in NOT_RUN_LINES:
        assert by_line[line].get("observed") is None


def test_roles_a_replay_creates_on_a_server_of_its_own_are_dropped_after_it(users_server, tmp_path):
    """The embedded and docker servers are migrasafe's: there CREATE ROLE runs, as the migration
    needs it, and the role goes with the replay database."""
    folder = write_migrations(tmp_path / "m", "CREATE ROLE replay_reader;\n"
                              "CREATE TABLE notes (id int);\nGRANT SELECT ON notes TO replay_reader;\n")
    roles_before = server_state(users_server.admin_conninfo)["roles"]
    report = replay(users_server, [folder], rows=100, probes=False)
    statements = report.results[-1].statements
    assert all(a.observed is not None and "error" not in a.observed for a in statements)
    assert not [f for f in report.all_findings() if f.rule == "MS098"]
    assert server_state(users_server.admin_conninfo)["roles"] == roles_before


@pytest.mark.parametrize("sql", [
    "CREATE TABLE t (a int)", "ALTER TABLE t OWNER TO app", "GRANT SELECT ON t TO app", "COPY t FROM STDIN",
    "SELECT set_config('work_mem', '1MB', false)", "CREATE EXTENSION IF NOT EXISTS pgcrypto",
    "DO $$ BEGIN CREATE TABLE z (a int); PERFORM 1; END $$", "ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b",
    "COMMENT ON TABLE t IS 'x'", "CREATE INDEX ON t (lower(a::text))",
])
def test_statements_inside_the_database_are_run(sql):
    assert reaches_outside(parse_sql(sql)[0].stmt) is None


@pytest.mark.parametrize("sql", [
    "CREATE DATABASE d", "ALTER DATABASE postgres SET work_mem = '1MB'", "ALTER DATABASE d RENAME TO e",
    "ALTER DATABASE d OWNER TO app", "DROP ROLE IF EXISTS app", "DROP USER x", "CREATE USER u", "CREATE GROUP g",
    "ALTER GROUP g ADD USER x", "ALTER USER app RENAME TO b", "REASSIGN OWNED BY app TO postgres",
    "DROP OWNED BY app", "CREATE TABLESPACE s LOCATION '/tmp'", "DROP TABLESPACE s", "ALTER TABLESPACE s OWNER TO x",
    "ALTER SYSTEM RESET ALL", "GRANT CONNECT ON DATABASE d TO app", "GRANT SET ON PARAMETER work_mem TO app",
    "SECURITY LABEL ON ROLE app IS 'x'", "COPY t TO '/tmp/out'", "COPY (SELECT 1) TO PROGRAM 'cat'",
    "SELECT dblink_exec('dbname=other', 'DROP TABLE accounts')", "SELECT * FROM public.dblink('x', 'y') AS t(a int)",
    "SELECT lo_import('/etc/passwd')", "SELECT pg_read_file('postgresql.conf')", "SELECT pg_cancel_backend(1)",
    "INSERT INTO t SELECT pg_ls_dir('.')", "LOAD 'auto_explain'", "CHECKPOINT",
    "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw",
    "CREATE USER MAPPING FOR app SERVER s", "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO public",
    "DO $$ BEGIN EXECUTE 'DROP ROLE app'; END $$", "DO $$ BEGIN CREATE ROLE r; END $$",
    "DO $$ DECLARE x oid; BEGIN x := lo_import('/etc/passwd'); END $$",
    "DO $$ BEGIN IF pg_reload_conf() THEN NULL; END IF; END $$", "DO LANGUAGE plperlu $$ system('id') $$",
])
def test_statements_reaching_outside_the_database_are_named(sql):
    assert reaches_outside(parse_sql(sql)[0].stmt)
