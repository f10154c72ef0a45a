"""A check stopped by SIGTERM while Django renders leaves no PostgreSQL, no rendering process and
no folder behind (the replay's watchdog, replay/reaper.py, and the child's stdin). SIGINT unwinds
through the same context managers as an exception does; SIGTERM ends the process at once, so
only the watchdogs can clean up."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Path(__file__).parent / "django_project"

SLOW = '''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0006_order_status")]

    operations = [migrations.RunSQL("SELECT pg_sleep(120)", reverse_sql=migrations.RunSQL.noop)]
'''


@pytest.fixture
def tmp():
    """A short TMPDIR of its own (unix socket paths must stay short), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ms-dj-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _leftovers(tmp: Path) -> list[str]:
    """Folders under tmp, and processes started with a path under it (postgres) or rendering."""
    found = [str(p) for p in tmp.glob("migrasafe-*")]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if str(tmp).encode() in cmdline and b"postgres" in cmdline:
            found.append(f"pid {proc.name}: {cmdline.decode(errors='replace')}")
        elif b"migrasafe.sources.django.worker" in cmdline and f"TMPDIR={tmp}".encode() in environ:
            found.append(f"pid {proc.name}: the rendering process")
    return found


def _wait_until_rendering(tmp: Path, process: subprocess.Popen, seconds: float = 90.0) -> None:
    """Until the added migration's pg_sleep runs on the rendering's server."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for sock in tmp.glob("migrasafe-*/sock"):
            try:
                with psycopg.connect(host=str(sock), user="postgres", dbname="postgres", connect_timeout=2) as conn:
                    if conn.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%' "
                                    "AND state = 'active'").fetchone():
                        return
            except psycopg.Error:
                pass
        time.sleep(0.3)
    pytest.fail("the rendering never reached the slow migration")


def test_sigterm_during_the_rendering_leaves_nothing_behind(tmp):
    project = tmp / "project"
    shutil.copytree(PROJECT, project)
    (project / "shop/migrations/0007_slow.py").write_text(SLOW)
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT), "MIGRASAFE_CACHE_DIR": str(tmp / "cache")}
    check = subprocess.Popen([sys.executable, "-m", "migrasafe", "check", str(project)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=tmp)
    try:
        _wait_until_rendering(tmp, check)
        assert _leftovers(tmp), "the server and the rendering process should be running now"
        check.send_signal(signal.SIGTERM)
        check.communicate(timeout=60)
    finally:
        if check.poll() is None:
            check.kill()
    deadline = time.monotonic() + 30
    while (found := _leftovers(tmp)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert found == []
