"""node-pg-migrate SQL migrations: `<timestamp>_<name>.sql` with `-- Up Migration` / `-- Down Migration`.

Sections (salsita/node-pg-migrate `src/sqlMigration.ts`, `getActions`): the markers are found with
`^\\s*--[\\s-]*(up|down)\\s+migration` (case-insensitive, any line); the up part runs from the up
marker to the down marker (or the end), the whole file when there is no up marker; the down part
is only run by `node-pg-migrate down`.

Transactions (node-pg-migrate `src/migration.ts`, `Migration._apply`, and its CLI documentation):
by default (`--single-transaction`, true) every pending migration runs in ONE transaction the
runner opens; with `--no-single-transaction` each migration is wrapped in its own BEGIN/COMMIT. A migration opts out with
`pgm.noTransaction()`, which only a JavaScript or TypeScript migration can call: an SQL file
always runs in a transaction. Migrations written in JavaScript or TypeScript in the same folder
are not read (reported as not checked).
"""
from __future__ import annotations

import re
from pathlib import Path

from ..config import Config
from .entries import Entry, History
from .formats import Prepared, SourceFormat
from .listing import files_in, relative, sniff
from .transactions import Runner
from .versions import string_key

UP = re.compile(r"^\s*--[\s-]*up\s+migration", re.I | re.M)
DOWN = re.compile(r"^\s*--[\s-]*down\s+migration", re.I | re.M)
CODE = (".js", ".cjs", ".mjs", ".ts")
FILE_NAME = re.compile(r"^(\d+)[_-]?(.*)\.sql$")


def list_history(root: Path) -> History:
    history = History(root=root, format="node-pg-migrate")
    for path in files_in(root):
        match = FILE_NAME.match(path.name)
        version, description = (match.group(1), match.group(2)) if match else ("", path.name[:-4])
        history.forward.append(Entry(file=path, rel=relative(root, path), version=version, description=description))
    # node-pg-migrate sorts the folder's file names.
    history.forward.sort(key=lambda e: string_key(e.file.name, e.rel))
    return history


def _marker_line(text: str, pattern: re.Pattern) -> int | None:
    """The offset of the start of the line holding the marker (\\s* may have matched blank lines)."""
    match = pattern.search(text)
    if match is None:
        return None
    dashes = text.index("--", match.start())
    return text.rfind("\n", 0, dashes) + 1


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    up, down = _marker_line(text, UP), _marker_line(text, DOWN)
    if up is None:
        return Prepared(text)  # node-pg-migrate then runs the whole file, down part included
    end = down if down is not None and down > up else len(text)
    return Prepared(text[up:end], line_offset=text.count("\n", 0, up))


def detect(folder: Path) -> bool:
    return any(UP.search(sniff(p, 2048)) for p in files_in(folder))


FORMAT = SourceFormat(
    name="node-pg-migrate", list_history=list_history, prepare=prepare, detect=detect,
    looks_like="node-pg-migrate (<timestamp>_<name>.sql with '-- Up Migration')",
    code_migrations=CODE,
    outside_transaction=("move it to a JavaScript migration that calls pgm.noTransaction() (an SQL migration"
                         " always runs in the transaction)"),
    separate_transaction=("in a later deploy (a separate node-pg-migrate run: with --single-transaction, the "
                          "default, every pending migration of one run shares one transaction)"),
    runner=Runner(
        wraps=True,
        wrapped="node-pg-migrate runs all pending migrations in one transaction (--single-transaction)",
        unwrapped="node-pg-migrate runs this migration without a transaction (configuration)",
        whole_file_query=False,
        scope="run",
    ),
)
