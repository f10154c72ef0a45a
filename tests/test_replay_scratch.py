"""Where the embedded server keeps its files: in memory when there is room for the replay's size."""
from __future__ import annotations

import psycopg

from migrasafe.replay import scratch


def roomy(monkeypatch, folder, free: int = 8 << 30, memory: int = 8 << 30) -> None:
    monkeypatch.delenv("MIGRASAFE_REPLAY_MEMORY", raising=False)
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.setattr(scratch, "MEMORY_DIR", folder)
    monkeypatch.setattr(scratch, "is_tmpfs", lambda path: path == folder)
    monkeypatch.setattr(scratch, "free_space", lambda path: free)
    monkeypatch.setattr(scratch, "available_memory", lambda: memory)


def test_memory_is_used_for_a_small_replay_with_room_to_spare(monkeypatch, tmp_path):
    roomy(monkeypatch, tmp_path)
    assert scratch.scratch_dir(100_000) == str(tmp_path)
    assert scratch.scratch_dir(scratch.MEMORY_ROWS + 1) is None  # a large replay stays on disk
    monkeypatch.setenv("TMPDIR", "/var/tmp")  # chosen on purpose
    assert scratch.scratch_dir(100_000) is None
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setenv("MIGRASAFE_REPLAY_MEMORY", "off")
    assert scratch.scratch_dir(100_000) is None


def test_too_little_room_in_memory_keeps_the_files_on_disk(monkeypatch, tmp_path):
    roomy(monkeypatch, tmp_path, free=1 << 30)
    assert scratch.scratch_dir(100_000) is None
    roomy(monkeypatch, tmp_path, memory=1 << 30)
    assert scratch.scratch_dir(100_000) is None
    roomy(monkeypatch, tmp_path)
    monkeypatch.setattr(scratch, "is_tmpfs", lambda path: False)  # a folder on a disk
    assert scratch.scratch_dir(100_000) is None
    assert scratch.room(tmp_path) == 0


def test_the_machine_s_own_figures_are_read(tmp_path):
    assert scratch.available_memory() > 0 and scratch.free_space(tmp_path) > 0


def test_the_server_lives_in_the_folder_given_and_leaves_nothing_there(tmp_path):
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18, scratch=str(tmp_path)) as server:
        with psycopg.connect(server.admin_conninfo) as conn:
            data = conn.execute("SHOW data_directory").fetchone()[0]
        assert data.startswith(str(tmp_path))
    assert list(tmp_path.iterdir()) == []
