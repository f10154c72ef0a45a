"""The dsn and docker backends: refusing what they must not touch, cleaning up what they made."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from migrasafe.replay.backends import BackendError, docker_unavailable, open_backend
from replay_helpers import replay, write_migrations

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ("CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);",
              "CREATE INDEX items_name_idx ON items (name);")


@pytest.fixture(scope="module")
def existing_server():
    """An embedded server standing in for a server the user already has."""
    with open_backend("embedded", pg_version=18) as server:
        with psycopg.connect(server.admin_conninfo, autocommit=True) as conn:
            conn.execute("CREATE DATABASE production")
            conn.execute("CREATE DATABASE scratch")
        with psycopg.connect(make_conninfo(server.admin_conninfo, dbname="production"), autocommit=True) as conn:
            conn.execute("CREATE TABLE customers (id int PRIMARY KEY)")
        yield server


def databases(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_dsn_backend_refuses_a_database_that_is_not_empty(existing_server):
    production = make_conninfo(existing_server.admin_conninfo, dbname="production")
    with pytest.raises(BackendError, match="'production', which is not empty"):
        with open_backend("dsn", pg_version=16, dsn=production):
            pass
    with psycopg.connect(production) as conn:  # untouched
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_dsn_backend_replays_in_its_own_database_and_drops_it(existing_server, tmp_path):
    scratch = make_conninfo(existing_server.admin_conninfo, dbname="scratch")
    before = databases(existing_server.admin_conninfo)
    with open_backend("dsn", pg_version=16, dsn=scratch) as server:
        assert server.backend == "dsn" and server.major == 18
        report = replay(server, [write_migrations(tmp_path / "m", *MIGRATIONS)], rows=500, probes=True)
        assert server.created and not set(server.created) & before
    seen = report.results[-1].statements[0].observed
    assert seen["locks"] == [{"relation": "public.items", "mode": "ShareLock"}]
    assert databases(existing_server.admin_conninfo) == before
    with psycopg.connect(scratch) as conn:  # the named database itself was never changed
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone() == (0,)


def test_cli_refuses_a_non_empty_dsn_with_a_message(existing_server, tmp_path):
    production = make_conninfo(existing_server.admin_conninfo, dbname="production")
    folder = write_migrations(tmp_path / "m", *MIGRATIONS)
    done = subprocess.run([sys.executable, "-m", "migrasafe", "replay", str(folder), "--dsn", production],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "which is not empty" in done.stderr and "Traceback" not in done.stderr


DOCKER = docker_unavailable()


@pytest.mark.skipif(DOCKER is not None, reason=f"docker backend: {DOCKER}")
def test_docker_backend_replays_on_the_requested_major(tmp_path):
    with open_backend("docker", pg_version=16) as server:
        assert server.major == 16 and server.backend == "docker"
        report = replay(server, [write_migrations(tmp_path / "m", *MIGRATIONS)], rows=500)
    seen = report.results[-1].statements[0].observed
    assert seen["locks"] == [{"relation": "public.items", "mode": "ShareLock"}]
    assert not [f for f in report.all_findings() if f.rule == "MS097"]


@pytest.mark.skipif(DOCKER is not None, reason=f"docker backend: {DOCKER}")
def test_docker_backend_with_an_image_that_does_not_exist(tmp_path):
    with pytest.raises(BackendError, match="could not start"):
        with open_backend("docker", pg_version=16, image="postgres:0-no-such-tag"):
            pass


@pytest.mark.skipif(DOCKER is None, reason="a Docker daemon answers here")
def test_docker_backend_without_a_daemon_says_so(tmp_path):
    folder = write_migrations(tmp_path / "m", *MIGRATIONS)
    done = subprocess.run([sys.executable, "-m", "migrasafe", "replay", str(folder), "--backend", "docker"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "the docker backend cannot run" in done.stderr and "Traceback" not in done.stderr


def test_stats_from_reads_production_rows_read_only(existing_server):
    from migrasafe.replay.stats import read_stats_from

    production = make_conninfo(existing_server.admin_conninfo, dbname="production")
    with psycopg.connect(production, autocommit=True) as conn:
        conn.execute("INSERT INTO customers SELECT generate_series(1, 1234)")
        conn.execute("ANALYZE customers")
    rows = read_stats_from(production, default=0)
    assert rows.rows("public", "customers") == 1234 and rows.rows("public", "other") == 0
    assert "--stats-from" in rows.source


def test_check_replay_with_a_stats_csv(tmp_path):
    folder = write_migrations(tmp_path / "m", *MIGRATIONS)
    stats = tmp_path / "stats.csv"
    stats.write_text("table,rows\npublic.items,40000\n")
    done = subprocess.run([sys.executable, "-m", "migrasafe", "check", "--replay", str(folder / "002_step.sql"),
                           "--stats", str(stats), "--sizes", "2000,4000", "--format", "json", "--no-probes"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1, done.stderr  # MS001
    import json

    data = json.loads(done.stdout)
    assert data["replay"]["production_rows"]["tables"] == {"public.items": 40000}
    (statement,) = data["migrations"][0]["statements"]
    assert statement["observed"]["predicted_ms"]["rows"] == 40000
    assert statement["observed"]["rows"] == 4000
    assert [f["rule"] for f in statement["findings"]][:1] == ["MS001"]
