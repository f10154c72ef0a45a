"""One listed entry → one `Migration`: read, select the part that runs, substitute, split, decide
the transaction."""
from __future__ import annotations

import os

from ..config import Config
from ..model import Migration
from . import findings
from .entries import Entry
from .formats import SourceFormat
from .reading import UnreadableFile, read_text
from .transactions import choose

# preprocess() reports both kinds of note as (line, message); the message says which it is.
_META_COMMAND_NOTE = "psql meta-command"


def display_path(display_root: str, rel: str) -> str:
    """The user's spelling of the history folder joined with a path inside it."""
    return os.path.join(display_root, rel) if display_root else rel


def build_migration(
    entry: Entry, fmt: SourceFormat, display_root: str, config: Config, display: str = ""
) -> Migration:
    """`display` overrides the path shown for the file itself (a file the user named)."""
    display = display or display_path(display_root, entry.rel)
    migration = Migration(
        path=display, format=fmt.name, version=entry.version, description=entry.description,
        kind=entry.kind, meta={"file": str(entry.file)},
    )
    if entry.options.get("atlas_format", "atlas") != "atlas":
        # Atlas wrote the directory for another tool, which runs it: fixes speak of that tool.
        migration.meta["runs_as"] = entry.options["atlas_format"]
    if "atlas_lint" in entry.options:  # what a bare atlas:nolint waives (sources/atlas/nolint.py)
        migration.meta["atlas_lint"] = entry.options["atlas_lint"]
    if "deploy_unit" in entry.options:  # migrations that always reach production together
        migration.meta["deploy_unit"] = entry.options["deploy_unit"]
    if "key" in entry.options:  # one of several migrations in the file (a Liquibase changeset)
        migration.meta["key"] = entry.options["key"]
    for problem in entry.problems:
        where = display_path(display_root, problem.rel)
        migration.findings.append(findings.input_error(where, problem.message, problem.line, fix=problem.fix))
        migration.broken = True
    encoding = entry.options.get("encoding", "utf-8")
    try:
        text = read_text(entry.file, encoding)
    except UnreadableFile as err:
        migration.findings.append(findings.input_error(display, err.message, err.line))
        migration.broken = True
        choice = choose(fmt.name, fmt.runner, None, [], config.transaction)
        migration.in_transaction, migration.transaction_reason = choice.in_transaction, choice.reason
        return migration

    if encoding == "utf-8" and "migrasafe:" not in text:
        # The whole file as read holds no directive: the history checks need not read it again.
        migration.meta["no_directives"] = True
    from ..parse import preprocess, split_statements  # pglast: only for migrations that are read

    prepared = fmt.prepare(entry, text, config, display)
    migration.findings.extend(prepared.findings)
    migration.broken = migration.broken or prepared.broken
    sql = prepared.text
    if fmt.preprocess:
        result = preprocess(sql)
        sql = result.text
        if result.templates:
            migration.meta["templates"] = result.templates
        # One finding per placeholder, at its first line: a template repeated on every line of a
        # file is one thing to know, not one per use.
        substituted: dict[str, list[int]] = {}
        for line, message in result.notes:
            line += prepared.line_offset
            if message.startswith(_META_COMMAND_NOTE):
                migration.findings.append(findings.psql_meta_command(display, line, message))
            else:
                substituted.setdefault(message, []).append(line)
        for message, lines in substituted.items():
            if len(lines) > 1:
                message += f" ({len(lines)} times, lines {_line_list(lines)})"
            migration.findings.append(findings.placeholder_substituted(display, lines[0], message))
    try:
        statements = split_statements(sql, line_offset=prepared.line_offset)
    except Exception as err:  # the input must never stop the run; report and move on
        message = f"the SQL parser gave up on this file: {err}"
        migration.findings.append(findings.input_error(display, message))
        migration.broken = True
        statements = []
    choice, notes = fmt.transaction(fmt, entry, prepared, statements, config, display)
    migration.findings.extend(notes)
    migration.text = sql
    migration.statements = statements
    migration.in_transaction = choice.in_transaction
    migration.transaction_reason = choice.reason
    migration.meta["implicit_transaction"] = choice.implicit
    if choice.query_blocks:
        migration.meta["query_blocks"] = list(choice.query_blocks)
    migration.meta["line_offset"] = prepared.line_offset
    return migration


def _line_list(lines: list[int], shown: int = 5) -> str:
    text = ", ".join(str(n) for n in lines[:shown])
    return text + (f" and {len(lines) - shown} more" if len(lines) > shown else "")

