"""Liquibase formatted SQL changelogs: one migration per changeset, in the master changelog's order.

Semantics from Liquibase's documentation (https://docs.liquibase.com/concepts/changelogs/sql-format.html,
".../changelogs/attributes/changeset-attributes", ".../changelogs/attributes/include",
".../includeall") and its source (FormattedSqlChangeLogParser, ChangeSet.execute):
- Each changeset runs in its own transaction, committed when it ends; `runInTransaction:false`
  switches the connection to autocommit for that changeset, so each statement commits alone.
- Statements are split at `;` (and at a `GO` line) unless `splitStatements:false`, which sends the
  whole changeset as ONE statement: through the PostgreSQL JDBC driver a multi-statement string
  runs as one implicit transaction, so CONCURRENTLY fails there even with runInTransaction:false.
  `endDelimiter:<x>` splits at a line holding only `<x>` (`/`, `GO`) instead.
- `dbms:` limits a changeset to the databases named (`postgresql`, `!postgresql`, `all`, `none`),
  `ignore:true` skips it; `context:` and `labels:` depend on the run's options, so every
  changeset is checked as if they match.
- Order: the master changelog's includes (changelog.py), else the folder's formatted SQL files in
  alphabetical order of their paths, as `includeAll` would run them. A formatted SQL changelog
  holding both includes and changesets runs them in the order written.

The model: a changeset is a unit (its own transaction choice, its own skip), so each changeset is one
`Migration` whose path is the file, whose version is `author:id`, and whose statements keep the
file's own line numbers. A changeset that does not run on PostgreSQL is listed under skipped as
`<file> (changeset author:id, line N)`. A changeSet written in YAML/XML/JSON runs the files of its
`sqlFile` changes (each file one migration, with the changeSet's `runInTransaction` and `dbms` and the
change's `splitStatements` and `endDelimiter`); its other changes (createTable, sql, ...) are listed
as not read. Limits: several sqlFile changes of one changeSet are checked as separate transactions;
a piece between end delimiters that holds several statements makes the whole changeset an implicit
transaction when it is not wrapped.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ...config import Config
from ...model import Finding, Statement
from ..entries import Entry, History, Problem
from ..formats import Prepared, SourceFormat
from ..listing import files_in, relative, sniff, walk_files
from ..reading import UnreadableFile, read_text
from ..transactions import Choice, Marker, Runner, choose
from .changelog import STRUCTURED, is_structured_changelog, walk
from .formatted import Changeset, forward_text, is_formatted, lines_of, read_formatted

NAME = "liquibase"
RAW = Changeset("includeAll", "raw", 0, 0)  # Liquibase's changeset for an included plain .sql file


def find_master(root: Path) -> Path | None:
    """The folder's root changelog: one named *master*, else its only YAML/XML/JSON changelog."""
    candidates = [p for suffix in STRUCTURED for p in files_in(root, suffix) if is_structured_changelog(p)]
    candidates += [p for p in files_in(root) if "master" in p.name.lower() and is_formatted(sniff(p, 4096))]
    masters = [p for p in candidates if "master" in p.name.lower()]
    if masters:
        return sorted(masters)[0]
    return candidates[0] if len(candidates) == 1 else None


def list_history(root: Path) -> History:
    history = History(root=root, format=NAME)
    master = find_master(root)
    if master is not None:
        walked = walk(master)
        history.companions |= walked.changelogs | {master}
        for file, line, message in walked.problems:
            history.problems.append(Problem(relative(root, file), line, message))
        for file, count in walked.structured_changesets.items():
            history.skipped[file] = (f"{count} change(s) of changeSets written in {file.suffix[1:].upper()} "
                                     "(createTable, sql, ...): migrasafe reads SQL files only, so they are not checked")
        seen = set()
        for included in walked.order:
            if included.attributes is not None:
                seen.add(included.file)
                _add_sql_file(history, root, included.file, included.attributes)
            elif included.lines is not None:  # a run of a changelog's own changesets, between its includes
                _add_file(history, root, included.file, included.lines, report=included.file not in seen)
                seen.add(included.file)
            elif included.file not in seen:
                seen.add(included.file)
                _add_file(history, root, included.file)
        # A changelog the walk read runs, even when it only includes others (a master.sql of
        # `--includeAll` lines): it is no file that Liquibase never runs.
        seen |= walked.changelogs
    else:
        for file in sorted((p for p in walk_files(root) if is_formatted(sniff(p, 4096))),
                           key=lambda p: relative(root, p)):
            _add_file(history, root, file)
    if master is not None:
        for file in walk_files(root):
            if file not in seen and is_formatted(sniff(file, 4096)):
                history.skipped[file] = f"not included from {master.name}: Liquibase never runs it"
    return history


def _add_file(history: History, root: Path, file: Path, lines: tuple[int, int] | None = None,
              report: bool = True) -> None:
    """The file's changesets, or with `lines` those starting in [start, end); `report`: add the
    file's parse problems (once, for a file read in several runs)."""
    rel = relative(root, file)
    try:
        text = read_text(file)
    except UnreadableFile:
        history.forward.append(Entry(file=file, rel=rel, version="", options={"changeset": None}))
        return  # reading it again reports why, on the migration
    if not is_formatted(text):
        history.forward.append(Entry(file=file, rel=rel, version=RAW.key, options={"changeset": None}))
        return
    parsed = read_formatted(text)
    if report:
        history.problems += [Problem(rel, line, message) for line, message in parsed.problems]
    skipped = []
    changesets = [c for c in parsed.changesets if lines is None or lines[0] <= c.start < lines[1]]
    for changeset in changesets:
        if changeset.duplicate:
            continue  # reported: Liquibase refuses the changelog
        why = changeset.skipped_because()
        if why:
            skipped.append((changeset, why))
            continue
        history.forward.append(Entry(file=file, rel=rel, version=changeset.key,
                                     description=changeset.attributes.get("comment", ""),
                                     options={"changeset": changeset, "key": f"{file}#{changeset.key}"}))
    if skipped and len(skipped) == len(parsed.changesets) and lines is None:
        history.skipped[file] = "; ".join(f"changeset {c.key}: {why}" for c, why in skipped)
    else:
        for changeset, why in skipped:
            history.skipped[Path(f"{file} (changeset {changeset.key}, line {changeset.start + 1})")] = why


def _add_sql_file(history: History, root: Path, file: Path, attributes: dict) -> None:
    """An `sqlFile` change: the whole file runs in its changeSet, with the change's split rules."""
    try:
        length = len(lines_of(read_text(file)))
    except UnreadableFile:
        length = 0  # reading it again reports why, on the migration
    changeset = Changeset(attributes.get("author", ""), attributes.get("id", ""), 0, length, attributes)
    why = changeset.skipped_because()
    if why:
        history.skipped[file] = f"changeSet {changeset.key}: {why}"
        return
    history.forward.append(Entry(file=file, rel=relative(root, file), version=changeset.key,
                                 options={"changeset": changeset, "key": f"{file}#{changeset.key}"}))


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    changeset: Changeset | None = entry.options.get("changeset")
    if changeset is None:  # a plain .sql file a changelog includes: one changeset, split at `;`
        entry.options["pieces"] = []
        return Prepared(text)
    lines = lines_of(text)
    start, end = changeset.start, min(changeset.end, len(lines))
    split = changeset.flag("splitStatements", True)
    delimiter = changeset.attributes.get("enddelimiter") if split else None
    body, pieces = forward_text(lines, start, end, delimiter)
    if not split:
        pieces = [(start, end - 1)]  # the whole changeset is one statement to the driver
    elif delimiter in (None, ";"):
        pieces = []  # each statement is sent on its own
    entry.options["pieces"] = pieces
    marker = None
    if not changeset.flag("runInTransaction", True):
        marker = Marker(False, "runInTransaction:false: Liquibase runs this changeset in autocommit")
    return Prepared(body, line_offset=start, marker=marker)


def transaction(fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement], config: Config,
                display: str) -> tuple[Choice, list[Finding]]:
    """Wrapped unless runInTransaction:false; then a piece sent as one string (splitStatements:false,
    or between end delimiters) that holds several statements is one implicit transaction."""
    one_query = any(sum(1 for s in statements if first + 1 <= s.line <= last + 1) > 1
                    for first, last in entry.options.get("pieces", []))
    runner = dataclasses.replace(fmt.runner, whole_file_query=one_query)
    return choose(fmt.name, runner, prepared.marker, statements, config.transaction), []


def detect(folder: Path) -> bool:
    if any(is_structured_changelog(p) for suffix in STRUCTURED for p in files_in(folder, suffix)):
        return True
    return any(is_formatted(sniff(p, 512)) for p in files_in(folder))  # the header is the first line


def root_of(folder: Path) -> Path | None:
    """The folder of the master changelog that runs the files of `folder` (a changeset file named alone)."""
    for ancestor in [folder, *folder.parents][:_MASTER_LEVELS]:
        if find_master(ancestor) is not None:
            history = list_history(ancestor)
            if any(e.file.parent == folder for e in history.forward):
                return ancestor
            return None
    return None


_MASTER_LEVELS = 6

FORMAT = SourceFormat(
    name=NAME, list_history=list_history, prepare=prepare, transaction=transaction, detect=detect, root_of=root_of,
    looks_like="Liquibase (db.changelog-master.yaml/xml, or .sql files starting '--liquibase formatted sql')",
    outside_transaction=("move it alone to its own changeset with runInTransaction:false ('--changeset "
                         "author:id runInTransaction:false' in formatted SQL; runInTransaction=\"false\" in XML)"),
    separate_transaction="in a separate changeset (Liquibase commits each changeset on its own)",
    runner=Runner(
        wraps=True,
        wrapped="Liquibase runs each changeset in its own transaction",
        unwrapped="Liquibase runs this changeset in autocommit",
        whole_file_query=False,
    ),
)
