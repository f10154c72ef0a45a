"""goose (pressly/goose v3): `<version>_<name>.sql` files with `-- +goose Up` / `-- +goose Down`.

Semantics, from goose's documentation ("SQL migrations" and "Annotations" pages) and its parser
(internal/sqlparser/parser.go):
- Annotations are comments on their own line, `-- +goose <command>`, case-insensitive: Up (once,
  required: a file without it is refused, "must start with '-- +goose Up' annotation"), Down,
  StatementBegin / StatementEnd (the lines between them are sent as ONE statement), NO TRANSACTION
  (anywhere in the file, for both directions), ENVSUB ON / OFF (environment variables substituted
  in between).
- Each file runs in its own transaction unless it says NO TRANSACTION; statements are sent one by
  one (`ExecContext` per statement), so an unwrapped file is not one implicit transaction — except a
  StatementBegin/End block, which reaches the server as one multi-statement query.
- Versions are the file name's numeric prefix (int64: counters or timestamps), applied in ascending
  order; two files with one version are refused. Migrations written in Go (`.go`, same naming)
  run in the same sequence: they are listed as not checked.
- `goose down` runs the Down part, with the same transaction rule; a file with a Down part is
  listed in `History.reverse` too (options["part"] = "down"), never run forward.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from ..config import Config
from ..model import Finding, Statement
from . import findings
from .annotated import has_part, split_sections
from .entries import Entry, History, Problem
from .formats import Prepared, SourceFormat, standard_transaction
from .listing import files_in, relative, sniff
from .placeholders import substitute
from .transactions import Choice, Marker, Runner

FILE_NAME = re.compile(r"^(\d+)_(.*)\.sql$")
CODE_NAME = re.compile(r"^(\d+)_(.*)\.go$")
_ANNOTATION = re.compile(r"^--\s*\+goose\s+(.*?)\s*$", re.IGNORECASE)
_COMMANDS = {"up", "down", "statementbegin", "statementend", "no transaction", "envsub on", "envsub off"}


def annotation(line: str) -> tuple[str, list[str]] | None:
    match = _ANNOTATION.match(line)
    if match is None:
        return None
    command = " ".join(match.group(1).lower().split())
    return (command, []) if command in _COMMANDS else ("unknown:" + match.group(1), [])


def detect(folder: Path) -> bool:
    return any(FILE_NAME.match(p.name) and _has_up(sniff(p)) for p in files_in(folder))


def _has_up(text: str) -> bool:
    if "+goose" not in text.lower():  # no annotation at all: the lines need not be read
        return False
    return any(annotation(line) == ("up", []) for line in text.split("\n"))


def list_history(root: Path) -> History:
    history = History(root=root, format="goose")
    seen: dict[int, str] = {}
    candidates = files_in(root) + [p for p in files_in(root, ".go") if CODE_NAME.match(p.name)]
    for file in candidates:
        if file.name.endswith("_test.go"):
            continue
        match = FILE_NAME.match(file.name) or CODE_NAME.match(file.name)
        rel = relative(root, file)
        if match is None:
            history.problems.append(Problem(
                rel, 1, "goose refuses to start: the file name has no numeric version (<version>_<name>.sql)",
                "name it <version>_<name>.sql, or move it out of the migrations folder"))
            continue
        version = int(match.group(1))
        if version in seen:
            history.problems.append(Problem(
                rel, 1, f"goose refuses to start: version {version} is also used by {seen[version]}",
                "give each migration its own version"))
            continue
        seen[version] = rel
        entry = Entry(file=file, rel=rel, version=match.group(1), description=match.group(2))
        # A Go migration is listed as not checked by the unread-file sweep (code_migrations).
        (history.code if file.suffix == ".go" else history.forward).append(entry)
        if file.suffix == ".sql" and has_part(file, annotation, "down"):
            history.reverse.append(dataclasses.replace(entry, kind="undo", options={"part": "down"}))
    history.forward.sort(key=lambda e: (int(e.version), e.rel))
    history.reverse.sort(key=lambda e: (int(e.version), e.rel))
    return history


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    """The Up part; the Down part for an entry of `History.reverse`."""
    sections = split_sections(text, annotation, entry.options.get("part", "up"))
    notes: list[Finding] = []
    if sections.up_line is None:
        return Prepared("", findings=[findings.input_error(
            display, "goose refuses this file: it must start with a '-- +goose Up' annotation",
            fix="add a '-- +goose Up' line above the migration's statements")], broken=True)
    for note in sections.annotations:
        if note.command.startswith("unknown:"):
            notes.append(findings.input_error(
                display, f"goose does not know the annotation '-- +goose {note.command[8:]}'", note.line,
                fix="use Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON or ENVSUB OFF"))
    forward = _substitute_environment(sections.forward, sections.annotations, config, display, notes)
    marker = None
    no_transaction = next((a for a in sections.annotations if a.command == "no transaction"), None)
    if no_transaction is not None:
        marker = Marker(False, f"'-- +goose NO TRANSACTION' (line {no_transaction.line}) turns off goose's transaction")
    return Prepared(forward, marker=marker, findings=notes, broken=any(f.rule == "MS099" for f in notes),
                    blocks=sections.blocks)


def _substitute_environment(text: str, annotations, config: Config, display: str, notes: list) -> str:
    """Between ENVSUB ON and OFF goose replaces ${VAR} with the deploy's environment; here the
    configured placeholders give values, and a stand-in identifier of the same width the rest."""
    switches = [(a.line, a.command == "envsub on") for a in annotations if a.command.startswith("envsub")]
    if not any(on for _, on in switches):
        return text
    lines = text.split("\n")
    on = False
    for number, line in enumerate(lines, 1):
        while switches and switches[0][0] == number:
            on = switches.pop(0)[1]
        if on and "${" in line:
            result = substitute(line, config.placeholders, os.path.basename(display))
            lines[number - 1] = result.text
            notes.extend(findings.placeholder_substituted(
                display, number, f"goose ENVSUB variable ${{{u.name}}} has no value here; checked with "
                                 f"{u.substitute} in its place", u.column,
                fix=f'give it a value under placeholders in the migrasafe configuration ({u.name} = "...")')
                for u in result.unresolved)
    return "\n".join(lines)


def transaction(fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement],
                config: Config, display: str) -> tuple[Choice, list[Finding]]:
    choice, notes = standard_transaction(fmt, entry, prepared, statements, config, display)
    return with_query_blocks(choice, prepared, statements), notes


def with_query_blocks(choice: Choice, prepared: Prepared, statements: list[Statement]) -> Choice:
    """Outside the tool's transaction, a StatementBegin/End block reaches the server as one query
    (one Exec): with several statements in it, PostgreSQL runs them as one implicit transaction,
    so its locks last until the block ends and CONCURRENTLY fails there. The analysis opens that
    transaction at the block's first statement and closes it after its last."""
    if choice.in_transaction:
        return choice
    blocks = []
    for start, end in prepared.blocks:
        inside = [s.index for s in statements if start < s.line < end]
        if len(inside) >= 2:
            blocks.append((inside[0], inside[-1], f"the StatementBegin/StatementEnd block (lines {start}-{end})"))
    return dataclasses.replace(choice, query_blocks=tuple(blocks)) if blocks else choice


FORMAT = SourceFormat(
    name="goose", list_history=list_history, prepare=prepare, transaction=transaction, detect=detect,
    looks_like="goose (<version>_<name>.sql with '-- +goose Up')", code_migrations=(".go",),
    outside_transaction=("move it to its own migration with '-- +goose NO TRANSACTION' (or add that line "
                         "when it is the file's only statement)"),
    # A COMMIT inside a DO that shares a multi-statement Exec fails: the block is one implicit transaction.
    self_committing=("its own migration with '-- +goose NO TRANSACTION', the DO alone in its own "
                     "StatementBegin/StatementEnd block"),
    runner=Runner(
        wraps=True,
        wrapped="goose runs each migration in a transaction",
        unwrapped="goose runs this migration without a transaction, statement by statement",
        whole_file_query=False,
    ),
)
