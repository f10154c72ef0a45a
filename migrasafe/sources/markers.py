"""Tool configuration files that name the migrations folder, read while discovering histories below
a project's root: the folder they name is the history, read in that tool's layout, and a folder a
tool runs on another database is listed as not read instead of being checked as PostgreSQL.

What each file says, from the tool's own documentation and source:

- sql-migrate, `dbconfig.yml` (rubenv/sql-migrate, sql-migrate/config.go `Environment` and
  `GetEnvironment`): a YAML mapping of environment name to `dialect`, `datasource`, `dir`, `table`,
  `schema`; `dir` defaults to `migrations` and is relative to where sql-migrate runs (the file's
  folder here). Dialects are `postgres`, `mysql`, `sqlite3` (and mssql, oci8, godror, snowflake in
  the library's MigrationDialects): only `postgres` is PostgreSQL.
- diesel, `diesel.toml` ("Configuring Diesel CLI", diesel.rs/guides/configuring-diesel-cli):
  `[migrations_directory] dir = "..."`, relative to the file's folder; without the table diesel
  looks for `migrations/`, which the layout's own detection finds.
- Flyway, `flyway.conf` (Flyway's configuration file reference, Java properties):
  `flyway.locations` is a comma-separated list of locations, `filesystem:<path>` naming a folder
  (relative to where Flyway runs) and `classpath:` or no prefix a Java classpath location, not a
  folder read here; `flyway.url` is the JDBC URL, `jdbc:postgresql:` for PostgreSQL and
  `jdbc:mysql:`, `jdbc:sqlserver:`, `jdbc:oracle:`… for other databases.

Parsing is minimal: a file that cannot be parsed is a problem on its line, and the rest of the
project is still read by shape.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .entries import Problem
from .reading import UnreadableFile, read_text

SQL_MIGRATE = "dbconfig.yml"
DIESEL = "diesel.toml"
FLYWAY = "flyway.conf"
MARKER_NAMES = (SQL_MIGRATE, DIESEL, FLYWAY)
# sql-migrate's dialect for PostgreSQL (the gorp dialect map in sql-migrate/config.go).
_SQL_MIGRATE_POSTGRES = "postgres"


@dataclass
class Marked:
    """A folder a tool's configuration names as its migrations."""

    folder: Path  # resolved
    format: str
    marker: str  # the configuration file and the setting, for reasons: "dbconfig.yml (development)"
    other_database: str | None = None  # the database it runs on, when it is not PostgreSQL
    file: str = ""  # the configuration file's name
    line: int = 1  # where it names the folder


@dataclass
class Markers:
    folders: list[Marked] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rel: the marker, relative to its folder


def read_markers(folder: Path) -> Markers:
    """The migration folders named by the tool configuration files in `folder` itself."""
    out = Markers()
    for name, reader in ((SQL_MIGRATE, _sql_migrate), (DIESEL, _diesel), (FLYWAY, _flyway)):
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = read_text(path)
        except UnreadableFile as err:
            out.problems.append(Problem(name, err.line, err.message))
            continue
        reader(folder, text, out)
    # A folder named twice (two environments): PostgreSQL wins, it is then read.
    chosen: dict[tuple[Path, str], Marked] = {}
    for marked in out.folders:
        key = (marked.folder, marked.format)
        if key not in chosen or (chosen[key].other_database and not marked.other_database):
            chosen[key] = marked
    out.folders = list(chosen.values())
    return out


def not_postgres_reason(marked: Marked) -> str:
    return (f"{marked.marker} runs this folder on {marked.other_database}, not PostgreSQL: "
            "its migrations are not checked")


def _folder(base: Path, value: str) -> Path:
    return Path(os.path.normpath(base / value)).resolve() if not os.path.isabs(value) else Path(value).resolve()


def _sql_migrate(base: Path, text: str, out: Markers) -> None:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        out.problems.append(Problem(SQL_MIGRATE, line, f"sql-migrate cannot read {SQL_MIGRATE}: {problem}"))
        return
    if data is None:
        return
    if not isinstance(data, dict):
        out.problems.append(Problem(SQL_MIGRATE, 1, f"sql-migrate cannot read {SQL_MIGRATE}: expected a mapping of "
                                                    "environment names to their settings"))
        return
    lines = text.splitlines()
    for env, settings in data.items():
        line = _line_of(lines, f"{env}:")
        if not isinstance(settings, dict):
            out.problems.append(Problem(SQL_MIGRATE, line, f"sql-migrate cannot read environment {env!r} of "
                                                           f"{SQL_MIGRATE}: expected dialect, datasource and dir"))
            continue
        folder = settings.get("dir") or "migrations"
        dialect = settings.get("dialect")
        if not isinstance(folder, str) or (dialect is not None and not isinstance(dialect, str)):
            out.problems.append(Problem(SQL_MIGRATE, line, f"environment {env!r} of {SQL_MIGRATE}: dir and dialect "
                                                           "must be strings"))
            continue
        other = None
        if dialect and "$" not in dialect and dialect.strip().lower() != _SQL_MIGRATE_POSTGRES:
            other = dialect.strip()
        line = _line_of(lines, "  dir:", line) if "dir" in settings else line
        out.folders.append(Marked(_folder(base, folder), "sql-migrate", f"{SQL_MIGRATE} ({env})", other,
                                  SQL_MIGRATE, line))


def _line_of(lines: list[str], start: str, after: int = 0) -> int:
    """The first line from `after` on that starts with `start` (after stripping, when it is indented)."""
    indented = start.startswith(" ")
    for i, line in enumerate(lines[after:], after + 1):
        if (line.lstrip().startswith(start.strip()) and line[:1].isspace()) if indented else line.startswith(start):
            return i
    return max(after, 1)


def _diesel(base: Path, text: str, out: Markers) -> None:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None) or _line_from_message(str(err))
        out.problems.append(Problem(DIESEL, line, f"diesel cannot read {DIESEL}: {str(err).split(' (at')[0]}"))
        return
    table = data.get("migrations_directory")
    if table is None:
        return
    line = _line_of(text.splitlines(), "[migrations_directory]")
    folder = table.get("dir") if isinstance(table, dict) else None
    if not isinstance(folder, str) or not folder:
        out.problems.append(Problem(DIESEL, line, f"[migrations_directory] in {DIESEL} needs dir = \"<folder>\""))
        return
    out.folders.append(Marked(_folder(base, folder), "diesel", f"{DIESEL} ([migrations_directory] dir)", None,
                              DIESEL, _line_of(text.splitlines(), "dir", line)))


def _line_from_message(message: str) -> int:
    import re

    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1


# JDBC subprotocols of PostgreSQL (the driver's own, and the p6spy proxy in front of it).
_POSTGRES_JDBC = ("jdbc:postgresql:", "jdbc:p6spy:postgresql:")


def _flyway(base: Path, text: str, out: Markers) -> None:
    from .flyway import _property

    settings: dict[str, tuple[str, int]] = {}
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):  # Java properties: `\` at the end continues
        line = raw.strip() if not logical else raw.lstrip()
        if not logical:
            start = number
            if not line or line[0] in "#!":
                continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        key, value = _property(logical + line)
        logical = ""
        settings[key] = (value, start)
    url, url_line = settings.get("flyway.url", ("", 0))
    other = None
    if url.startswith("jdbc:") and "$" not in url and not url.startswith(_POSTGRES_JDBC):
        other = url.split(":")[1] or url
    locations, line = settings.get("flyway.locations", ("", 0))
    for location in (part.strip() for part in locations.split(",")):
        if not location.startswith("filesystem:"):
            continue  # classpath:, s3:, gcs: and bare names are not folders of this project
        folder = location[len("filesystem:"):].strip()
        if not folder or "$" in folder:
            if not folder:
                out.problems.append(Problem(FLYWAY, line, f"flyway.locations in {FLYWAY}: "
                                                          "filesystem: names no folder"))
            continue
        marker = f"{FLYWAY} (flyway.url jdbc:{other}, line {url_line})" if other else f"{FLYWAY} (flyway.locations)"
        out.folders.append(Marked(_folder(base, folder), "flyway", marker, other, FLYWAY, line))
