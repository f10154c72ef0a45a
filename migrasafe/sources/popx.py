"""popx (Ory): <version>_<name>[.<dialect>][.autocommit].(up|down).sql, dialect files preferred."""
from __future__ import annotations

import re
from pathlib import Path

from ..config import Config
from .entries import Entry, History
from .formats import Prepared, SourceFormat
from .listing import files_in, relative, sniff, walk_files
from .transactions import Marker, Runner
from .versions import string_key

# popx's MigrationFileRegexp, limited to SQL files.
FILE_NAME = re.compile(r"^(\d+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.sql$")

# pop's canonical dialect names; files for an unknown dialect are skipped, as popx does.
DIALECTS = {
    "postgres": "postgres", "postgresql": "postgres", "pg": "postgres",
    "cockroach": "cockroach", "cockroachdb": "cockroach", "crdb": "cockroach",
    "mysql": "mysql", "mariadb": "mysql",
    "sqlite3": "sqlite3", "sqlite": "sqlite3",
}
GENERIC = "all"


def parse_name(name: str) -> tuple[str, str, str, bool, str] | None:
    """(version, name, dialect, autocommit, direction), or None when popx would skip the file."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    version, label, dialect, autocommit, direction = match.groups()
    if dialect == ".autocommit":
        # popx's special case: with no dialect, the regex puts `.autocommit` in the dialect slot.
        dialect, autocommit = None, ".autocommit"
    canonical = GENERIC if dialect is None else DIALECTS.get(dialect[1:])
    if canonical is None:
        return None
    return version, label, canonical, bool(autocommit), direction


def has_dialect_marker(name: str) -> bool:
    parsed = parse_name(name)
    return parsed is not None and (parsed[2] != GENERIC or parsed[3])


# Ory's versions are a 14-digit timestamp and a 6-digit step: one change split into steps, shipped
# in one release, so a table one step creates is not yet live for the next (analyse.py).
RELEASE_VERSION_DIGITS = 20

# One reason for every shadowed file, so the report counts them together; the JSON names each file.
SHADOWED = "a generic file shadowed by its .postgres variant of the same version, which popx runs instead"

def list_history(root: Path) -> History:
    history = History(root=root, format="popx")
    chosen: dict[tuple[str, str], Entry] = {}
    for file in walk_files(root):
        parsed = parse_name(file.name)
        if parsed is None:
            continue
        version, label, dialect, autocommit, direction = parsed
        if dialect not in ("postgres", GENERIC):
            history.skipped[file] = f"for the {dialect} dialect: popx runs it only there"
            continue
        options = {"dialect": dialect, "autocommit": autocommit}
        if len(version) == RELEASE_VERSION_DIGITS:
            options["deploy_unit"] = f"popx release {version[:14]}"
        entry = Entry(file=file, rel=relative(root, file), version=version, description=label,
                      kind="versioned" if direction == "up" else "undo", options=options)
        key = (version, direction)
        current = chosen.get(key)
        # For one version, the postgres file wins over the generic one (popx's sortAndFilter).
        if current is None or (dialect == "postgres" and current.options["dialect"] == GENERIC):
            if current is not None:
                history.skipped[current.file] = SHADOWED
            chosen[key] = entry
        else:
            history.skipped[file] = SHADOWED
    for (version, direction), entry in chosen.items():
        (history.forward if direction == "up" else history.reverse).append(entry)
    # popx compares versions as strings: a 14-digit legacy version sorts by its characters.
    history.forward.sort(key=lambda e: string_key(e.version, e.rel))
    history.reverse.sort(key=lambda e: string_key(e.version, e.rel))
    return history


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    marker = None
    if entry.options.get("autocommit"):
        marker = Marker(False, "the .autocommit file name makes popx run it without a transaction")
    return Prepared(text, marker=marker)


def is_popx_folder(folder: Path) -> bool:
    """pop's layout rather than golang-migrate's: a dialect in a name, or Go templates (a pop
    feature; golang-migrate would send them to the server as they are)."""
    up_down = [p for p in files_in(folder) if FILE_NAME.match(p.name)]
    return any(has_dialect_marker(p.name) for p in up_down) or any("{{" in sniff(p) for p in up_down)


def detect(folder: Path) -> bool:
    return is_popx_folder(folder)


FORMAT = SourceFormat(
    name="popx", list_history=list_history, prepare=prepare, preprocess=True, detect=detect,
    looks_like="popx (<version>_<name>[.postgres].up.sql)",
    outside_transaction=("move it to its own migration named <version>_<name>.autocommit.up.sql (ory/popx then "
                         "runs it without a transaction; gobuffalo/pop, which reads the same names, has no such "
                         "file and runs every migration in a transaction: with pop, run it outside the migrator)"),
    runner=Runner(
        wraps=True,
        wrapped="popx runs each migration in a transaction",
        unwrapped="popx runs this migration without a transaction",
        whole_file_query=True,
    ),
)
