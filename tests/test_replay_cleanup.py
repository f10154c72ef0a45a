"""A replay leaves no server, data directory or database behind, however it ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from replay_helpers import write_migrations

ROOT = Path(__file__).resolve().parents[1]
SETUP = "CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);"
SLOW = "SELECT pg_sleep(60);"


def leftovers(tmp: Path) -> list[str]:
    """Replay folders under tmp, and processes (a postmaster) started with a path under it."""
    found = [str(p) for p in tmp.glob("migrasafe-replay-*")]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(tmp).encode() in cmdline and b"postgres" in cmdline:
            found.append(f"pid {proc.name}: {cmdline.decode(errors='replace')}")
    return found


def wait_for_no_leftovers(tmp: Path, seconds: float = 20.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (found := leftovers(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _as_at_a_terminal() -> None:
    # A suite started in the background of a shell without job control inherits SIGINT ignored,
    # and so would the replay: Ctrl-C reaches a command run at a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_replay(tmp: Path, folder: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "migrasafe", "replay", str(folder), "--rows", "100", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp,
                            preexec_fn=_as_at_a_terminal)


def wait_until_sleeping(tmp: Path, process: subprocess.Popen, seconds: float = 60.0) -> None:
    """Until the migration's pg_sleep runs on the replay server."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for sock in tmp.glob("migrasafe-replay-*/sock"):
            try:
                with psycopg.connect(host=str(sock), user="postgres", dbname="postgres", connect_timeout=2) as conn:
                    if conn.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%' "
                                    "AND state = 'active'").fetchone():
                        return
            except psycopg.Error:
                pass
        time.sleep(0.2)
    pytest.fail("the migration never started")


@pytest.fixture
def tmp():
    """A short TMPDIR of its own (unix socket paths must stay short), removed afterwards."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ms-test-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_success_leaves_nothing(tmp):
    folder = write_migrations(tmp / "m", SETUP, "CREATE INDEX items_name_idx ON items (name);")
    done = start_replay(tmp, folder)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, err  # MS001 on the index
    assert "replay: PostgreSQL" in out
    assert wait_for_no_leftovers(tmp, 5) == []


def test_failure_inside_the_replay_leaves_nothing(tmp, monkeypatch):
    import tempfile

    from migrasafe.replay import run as replay_run

    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again

    def broken(*args, **kwargs):
        assert list(tmp.glob("migrasafe-replay-*")), "the server should be running by now"
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(replay_run, "replay_history", broken)
    from migrasafe.check import run
    from migrasafe.config import Config

    folder = write_migrations(tmp / "m", SETUP)
    report = run([str(folder)], Config())
    with pytest.raises(RuntimeError, match="broken on purpose"):
        replay_run.replay_report(report, [str(folder)], Config(), replay_run.ReplaySettings(progress=False))
    assert wait_for_no_leftovers(tmp, 10) == []


def test_timeout_stops_the_replay_and_leaves_nothing(tmp):
    folder = write_migrations(tmp / "m", SETUP, SLOW)
    done = start_replay(tmp, folder, "--timeout", "3s")
    out, err = done.communicate(timeout=120)
    assert done.returncode == 2
    assert "ran past its --timeout of 3.0 s" in err
    assert wait_for_no_leftovers(tmp, 10) == []


def test_statement_timeout_guard_cancels_one_statement(tmp):
    folder = write_migrations(tmp / "m", SETUP, SLOW + "\nCREATE INDEX items_name_idx ON items (name);")
    done = start_replay(tmp, folder, "--statement-timeout", "1s", "--format", "json")
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, err
    import json

    statements = json.loads(out)["migrations"][-1]["statements"]
    assert "cancelled by the statement_timeout guard" in statements[0]["observed"]["error"]
    assert statements[0]["findings"][0]["rule"] == "MS098"
    assert "error" not in statements[1]["observed"]  # the rest still ran
    assert wait_for_no_leftovers(tmp, 5) == []


def test_ctrl_c_leaves_nothing(tmp):
    folder = write_migrations(tmp / "m", SETUP, SLOW)
    running = start_replay(tmp, folder)
    wait_until_sleeping(tmp, running)
    running.send_signal(signal.SIGINT)
    running.communicate(timeout=60)
    assert running.returncode == 130
    assert wait_for_no_leftovers(tmp, 10) == []


def test_killed_run_is_cleaned_up_by_its_watchdog(tmp):
    folder = write_migrations(tmp / "m", SETUP, SLOW)
    running = start_replay(tmp, folder)
    wait_until_sleeping(tmp, running)
    assert leftovers(tmp), "a server should be running"
    running.kill()
    running.communicate(timeout=30)
    assert wait_for_no_leftovers(tmp, 30) == []
