"""sql-migrate (rubenv/sql-migrate): `.sql` files with `-- +migrate Up [notransaction]` and
`-- +migrate Down`.

Semantics, from sql-migrate's README ("Writing migrations") and its parser (sqlparse/sqlparse.go):
- Commands are comments starting exactly `-- +migrate ` followed by Up, Down, StatementBegin or
  StatementEnd (case-sensitive); `notransaction` after Up runs the file outside a transaction.
  A file with neither Up nor Down is refused ("no Up/Down annotations found").
- Each migration runs in its own transaction unless notransaction; statements are executed one by
  one. The lines between StatementBegin and StatementEnd are one statement.
- Migrations are the `.sql` files of the configured `dir` (dbconfig.yml), ordered by the numeric
  prefix of their id when both have one, else by name.
- `sql-migrate down` runs the Down part, in a transaction unless `-- +migrate Down notransaction`;
  a file with a Down part is listed in `History.reverse` too (options["part"] = "down").
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..config import Config
from ..model import Finding, Statement
from . import findings
from .annotated import has_part, split_sections
from .entries import Entry, History
from .formats import Prepared, SourceFormat, standard_transaction
from .goose import with_query_blocks
from .listing import files_in, relative, sniff
from .transactions import Choice, Marker, Runner

_PREFIX = "-- +migrate "
_COMMANDS = {"Up": "up", "Down": "down", "StatementBegin": "statementbegin", "StatementEnd": "statementend"}
_NUMERIC_PREFIX = re.compile(r"^(\d+)")


def annotation(line: str) -> tuple[str, list[str]] | None:
    if not line.startswith(_PREFIX):
        return None
    words = line[len(_PREFIX):].split()
    if not words or words[0] not in _COMMANDS:
        return ("unknown:" + " ".join(words), [])
    return _COMMANDS[words[0]], words[1:]


def detect(folder: Path) -> bool:
    return any(_has_up(sniff(p)) for p in files_in(folder))


def _has_up(text: str) -> bool:
    if _PREFIX not in text:  # no annotation at all: the lines need not be read
        return False
    return any((annotation(line) or ("",))[0] == "up" for line in text.split("\n"))


def run_order(entry: Entry) -> tuple:
    """sql-migrate's byId: numeric prefixes compare as numbers, names without one as strings."""
    match = _NUMERIC_PREFIX.match(entry.file.name)
    return (0, int(match.group(1)), entry.file.name) if match else (1, 0, entry.file.name)


def list_history(root: Path) -> History:
    history = History(root=root, format="sql-migrate")
    for file in files_in(root):
        stem = file.name[: -len(".sql")]
        match = _NUMERIC_PREFIX.match(stem)
        entry = Entry(file=file, rel=relative(root, file), version=match.group(1) if match else stem,
                      description=stem[match.end():].lstrip("_-") if match else stem)
        history.forward.append(entry)
        if has_part(file, annotation, "down"):
            history.reverse.append(dataclasses.replace(entry, kind="undo", options={"part": "down"}))
    history.forward.sort(key=run_order)
    history.reverse.sort(key=run_order)
    return history


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    """The Up part; the Down part for an entry of `History.reverse`."""
    part = entry.options.get("part", "up")
    sections = split_sections(text, annotation, part)
    if sections.up_line is None and not any(a.command == "down" for a in sections.annotations):
        return Prepared("", findings=[findings.input_error(
            display, "sql-migrate refuses this file: no '-- +migrate Up' or '-- +migrate Down' annotation",
            fix="add a '-- +migrate Up' line above the migration's statements")], broken=True)
    notes: list[Finding] = [
        findings.input_error(display, f"sql-migrate does not know the command '-- +migrate {a.command[8:]}'", a.line,
                             fix="use Up, Down, StatementBegin or StatementEnd")
        for a in sections.annotations if a.command.startswith("unknown:")
    ]
    marker = None
    start = next((a for a in sections.annotations if a.command == part), None)
    if start is not None and "notransaction" in start.options:
        marker = Marker(False, f"'-- +migrate {part.capitalize()} notransaction' (line {start.line}) turns off "
                               f"sql-migrate's transaction")
    return Prepared(sections.forward, marker=marker, findings=notes, broken=bool(notes), blocks=sections.blocks)


def transaction(fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement],
                config: Config, display: str) -> tuple[Choice, list[Finding]]:
    choice, notes = standard_transaction(fmt, entry, prepared, statements, config, display)
    return with_query_blocks(choice, prepared, statements), notes


FORMAT = SourceFormat(
    name="sql-migrate", list_history=list_history, prepare=prepare, transaction=transaction, detect=detect,
    looks_like="sql-migrate (*.sql with '-- +migrate Up')",
    outside_transaction=("move it to its own migration with '-- +migrate Up notransaction' (or add "
                         "notransaction when it is the file's only statement)"),
    self_committing=("its own migration with '-- +migrate Up notransaction', the DO alone in its own "
                     "StatementBegin/StatementEnd block"),
    runner=Runner(
        wraps=True,
        wrapped="sql-migrate runs each migration in a transaction",
        unwrapped="sql-migrate runs this migration without a transaction, statement by statement",
        whole_file_query=False,
    ),
)
