"""Shared pieces of the replay tests: one embedded server per test process, and a replay call."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import psycopg

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.replay.run import ReplaySettings, replay_report
from migrasafe.replay.stats import ProductionRows


def replay(server, paths, *, rows: int, sizes=None, probes: bool = True, repeat: int = 1, config: Config | None = None,
           **settings):
    """Check and replay ``paths`` on ``server``; returns the report."""
    config = config or Config(pg_version=server.major)
    paths = [str(p) for p in paths]
    report = run(paths, config)
    options = ReplaySettings(production=ProductionRows(default=rows), sizes=tuple(sizes or (rows,)), probes=probes,
                             repeat=repeat, progress=False, **settings)
    replay_report(report, paths, config, options, server=server)
    return report


def write_migrations(folder: Path, *files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(files, start=1):
        (folder / f"{number:03d}_step.sql").write_text(text)
    return folder


def observed_of(report, line: int, migration: int = -1) -> dict:
    result = report.results[migration]
    (analysed,) = [a for a in result.statements if a.statement.line == line]
    return analysed.observed


def ensure_tablespaces(conninfo: str, names: list[str]) -> None:
    """Tablespaces a corpus case moves tables into, in folders the server's OS user owns (removed
    when the test process ends: they lie outside the server's data directory)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        owner = os.stat(conn.execute("SHOW data_directory").fetchone()[0])
        for name in names:
            if conn.execute("SELECT 1 FROM pg_tablespace WHERE spcname = %s", (name,)).fetchone():
                continue
            folder = Path(tempfile.mkdtemp(prefix=f"migrasafe-{name}-"))
            atexit.register(shutil.rmtree, folder, True)
            os.chown(folder, owner.st_uid, owner.st_gid)
            folder.chmod(0o700)
            conn.execute(f'CREATE TABLESPACE "{name}" LOCATION \'{folder}\'')
