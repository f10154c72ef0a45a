"""The template cluster: initdb runs once per installation, later replays copy its result."""
from __future__ import annotations

import os

from migrasafe.replay import cluster_cache


def fake_bindir(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "postgres").write_text("binary")
    return bindir


def test_initdb_runs_once_and_later_clusters_are_copies(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGRASAFE_CLUSTER_CACHE", str(tmp_path / "cache"))
    bindir = fake_bindir(tmp_path)
    calls = []

    def initdb(argv):
        calls.append(argv)
        datadir = tmp_path / argv[argv.index("-D") + 1]
        datadir.mkdir()
        (datadir / "PG_VERSION").write_text("18\n")
        os.chmod(datadir, 0o700)

    cluster_cache.initialise(tmp_path / "one", bindir, "postgres", None, initdb)
    cluster_cache.initialise(tmp_path / "two", bindir, "postgres", None, initdb)
    assert len(calls) == 1 and "-U" in calls[0] and "--no-sync" in calls[0]
    assert (tmp_path / "two" / "PG_VERSION").read_text() == "18\n"
    assert oct((tmp_path / "two").stat().st_mode & 0o777) == "0o700"  # the server refuses a readable one
    # Another installation (its postgres binary changed) gets its own initdb.
    (bindir / "postgres").write_text("another build")
    cluster_cache.initialise(tmp_path / "three", bindir, "postgres", None, initdb)
    assert len(calls) == 2


def test_off_always_runs_initdb(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGRASAFE_CLUSTER_CACHE", "off")
    bindir = fake_bindir(tmp_path)
    calls = []

    def initdb(argv):
        calls.append(argv)
        (tmp_path / argv[argv.index("-D") + 1]).mkdir()

    cluster_cache.initialise(tmp_path / "one", bindir, "postgres", None, initdb)
    cluster_cache.initialise(tmp_path / "two", bindir, "postgres", None, initdb)
    assert len(calls) == 2
