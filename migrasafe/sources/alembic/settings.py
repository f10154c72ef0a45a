"""`[tool.migrasafe.alembic]` and the command line's Alembic options.

    [tool.migrasafe.alembic]
    preamble = ["SET lock_timeout = '4s'"]  # what env.py runs on the connection before migrating
    transaction_per_migration = true       # overrides what env.py says
    sys_path = ["src"]                     # import roots for revisions that import the application
    script_location = "db/migrations"      # when no alembic.ini names it
    revision_time_limit = 30               # seconds to load one revision, and to render it
    run_time_limit = 600                   # seconds for the whole project

The command line adds `--alembic-dir` (as `script_location`), `--from` and `--to`, stored in the
same table under `script_location`, `from` and `to`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TABLE_KEYS = {"preamble", "transaction_per_migration", "sys_path", "script_location", "revision_time_limit",
              "run_time_limit"}
REVISION_TIME_LIMIT = 30.0  # seconds; a revision is code that should do nothing but build SQL
RUN_TIME_LIMIT = 600.0
COMMAND_LINE_KEYS = {"from", "to"}


class SettingsError(Exception):
    pass


@dataclass
class AlembicSettings:
    preamble: list[str] = field(default_factory=list)
    transaction_per_migration: bool | None = None  # None: as env.py configures it
    sys_path: list[Path] | None = None  # None: the project root (and alembic.ini's prepend_sys_path)
    script_location: Path | None = None
    start: str | None = None  # --from: revisions up to it are already applied
    stop: str | None = None  # --to: the last revision to check
    revision_time_limit: float = REVISION_TIME_LIMIT
    run_time_limit: float = RUN_TIME_LIMIT


def validate_table(table: dict, where: str) -> None:
    """Raise SettingsError naming the key when the table cannot be used."""
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: alembic must be a table")
    unknown = sorted(set(table) - TABLE_KEYS - COMMAND_LINE_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) alembic.{', alembic.'.join(unknown)}")
    preamble = table.get("preamble", [])
    if isinstance(preamble, str):
        preamble = [preamble]
    if not isinstance(preamble, list) or not all(isinstance(p, str) for p in preamble):
        raise SettingsError(f"{where}: alembic.preamble must be SQL text or a list of SQL texts")
    if not isinstance(table.get("transaction_per_migration", False), bool):
        raise SettingsError(f"{where}: alembic.transaction_per_migration must be true or false")
    sys_path = table.get("sys_path", [])
    if not isinstance(sys_path, list) or not all(isinstance(p, str) for p in sys_path):
        raise SettingsError(f"{where}: alembic.sys_path must be a list of folders")
    for key in ("revision_time_limit", "run_time_limit"):
        value = table.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise SettingsError(f"{where}: alembic.{key} must be a number of seconds above 0")
    for key in ("script_location", "from", "to"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SettingsError(f"{where}: alembic.{key} must be a non-empty string")


def alembic_settings(table: dict, root: Path | None) -> AlembicSettings:
    """Settings from a validated table; paths are relative to the config file's folder."""
    base = root or Path.cwd()
    preamble = table.get("preamble", [])
    sys_path = table.get("sys_path")
    location = table.get("script_location")
    return AlembicSettings(
        preamble=[preamble] if isinstance(preamble, str) else list(preamble),
        transaction_per_migration=table.get("transaction_per_migration"),
        sys_path=[(base / p).resolve() for p in sys_path] if sys_path is not None else None,
        script_location=(base / location).resolve() if location else None,
        start=table.get("from"),
        stop=table.get("to"),
        revision_time_limit=float(table.get("revision_time_limit", REVISION_TIME_LIMIT)),
        run_time_limit=float(table.get("run_time_limit", RUN_TIME_LIMIT)),
    )
