"""golang-migrate: NNN_name.up.sql / NNN_name.down.sql in one folder, ordered by integer version."""
from __future__ import annotations

import re
from pathlib import Path

from .entries import Entry, History, Problem
from .formats import SourceFormat
from .transactions import Runner
from .listing import files_in, relative
from .versions import integer_key

# golang-migrate's own file name pattern (source/parse.go), limited to SQL files.
FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.(down|up)\.sql$")


def list_history(root: Path) -> History:
    history = History(root=root, format="golang-migrate")
    seen: dict[tuple[int, str], str] = {}
    for file in files_in(root):
        match = FILE_NAME.match(file.name)
        if not match:
            continue
        version, name, direction = match.groups()
        entry = Entry(file=file, rel=relative(root, file), version=version, description=name,
                      kind="versioned" if direction == "up" else "undo")
        key = (int(version), direction)
        if key in seen:
            history.problems.append(Problem(
                entry.rel, 1,
                f"golang-migrate refuses to start: version {int(version)} ({direction})"
                f" is also used by {seen[key]}",
                "give each migration its own version",
            ))
            continue
        seen[key] = entry.rel
        (history.forward if direction == "up" else history.reverse).append(entry)
    history.forward.sort(key=lambda e: integer_key(e.version, e.rel))
    history.reverse.sort(key=lambda e: integer_key(e.version, e.rel))
    return history


def detect(folder: Path) -> bool:
    from .popx import is_popx_folder  # popx names are a superset: it is told apart first

    return any(FILE_NAME.match(p.name) for p in files_in(folder)) and not is_popx_folder(folder)


FORMAT = SourceFormat(
    name="golang-migrate", list_history=list_history, detect=detect,
    looks_like="golang-migrate (<version>_<name>.up.sql / .down.sql)",
    outside_transaction=("put it alone in its own migration file, without BEGIN/COMMIT (golang-migrate adds "
                         "no transaction of its own)"),
    runner=Runner(
        wraps=False,
        wrapped="golang-migrate files are run in a transaction (configuration)",
        unwrapped="golang-migrate does not wrap files in a transaction",
        whole_file_query=True,
    ),
)
