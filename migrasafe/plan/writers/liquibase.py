"""Liquibase formatted SQL: new migrations are changesets, `runInTransaction:false` opts one out.

`fix` marks a one-statement changeset `runInTransaction:false`, or moves the statement into a new
changeset right after its own in the same file; `plan` writes one formatted SQL file per step
beside the master changelog and includes it there, after the existing includes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ...sources.liquibase.formatted import CHANGESET
from .base import NewMigration, Writer

AUTHOR = "migrasafe"
NO_TRANSACTION = "runInTransaction:false"
ROLLBACK = re.compile(r"^\s*--\s*rollback\s+(.*?)\s*$", re.I)


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    return [(new.rel, "--liquibase formatted sql\n\n" + changeset(AUTHOR, Path(new.rel).stem, new, ""))]


def changeset(author: str, key: str, new: NewMigration, comment: str) -> str:
    flag = "" if new.transactional else " " + NO_TRANSACTION
    lines = [f"--changeset {author}:{key}{flag}\n"]
    if comment:
        lines.append(f"--comment: {comment}\n")
    lines.append(new.header)
    lines.append(new.up)
    for line in new.down.splitlines():
        lines.append(line + "\n" if line.lstrip().startswith("--") else f"--rollback {line}\n")
    return "".join(lines)


def _changeset_lines(text: str, line: int) -> tuple[int, int]:
    """0-based (first, past last) line indexes of the changeset holding file line `line`."""
    lines = text.split("\n")
    first = max((i for i in range(min(line, len(lines))) if CHANGESET.match(lines[i])), default=None)
    if first is None:
        return -1, -1
    last = next((i for i in range(first + 1, len(lines)) if CHANGESET.match(lines[i])), len(lines))
    return first, last


def opt_out(fixer, analysed) -> bool:
    """Add `runInTransaction:false` to the changeset's own `--changeset` line."""
    from ..fix import Edit

    first, _ = _changeset_lines(fixer.text, analysed.statement.line)
    if first < 0:
        fixer.note(analysed, "its changeSet is written in the changelog that runs this file (sqlFile): set runInTransaction: false there, or give the statement a changeSet of its own")
        return False
    start = fixer.starts[first]
    end = fixer.text.find("\n", start)
    end = len(fixer.text) if end < 0 else end
    if fixer.text[start:end].endswith("\r"):
        end -= 1
    line = fixer.text[start:end]
    fixer.allow(start, end)
    current = re.search(r"runInTransaction:\S*", line, re.I)
    if current:
        fixer.edits.append(Edit(start + current.start(), start + current.end(), NO_TRANSACTION))
    else:
        fixer.edits.append(Edit(end, end, " " + NO_TRANSACTION))
    return True


def add_to_history(fixer, groups) -> list | None:
    """New changesets right after the fixed one, in the same file (edits of the fixer's own file)."""
    from pglast import ast

    from ...parse import split_statements
    from ..fix import Edit
    from ..sql import literal, slug

    line = fixer.result.statements[0].statement.line if fixer.result.statements else 1
    first, last = _changeset_lines(fixer.text, line)
    if first < 0:
        fixer.fixes.notes.append(f"{fixer.migration.path}: not fixed: " + "its changeSet is written in the changelog that runs this file (sqlFile): set runInTransaction: false there, or give the statement a changeSet of its own")
        return None
    match = CHANGESET.match(fixer.text.split("\n")[first])
    author, key = match.group("author"), match.group("id")
    taken = {m.group("id") for m in map(CHANGESET.match, fixer.text.split("\n")) if m}
    blocks, moved = [], set()
    for description, statements, down, transactional in groups:
        new_key = slug(f"{key.strip(chr(34))}-{description}").replace("_", "-")
        if new_key in taken:
            fixer.fixes.notes.append(f"{fixer.migration.path}: not fixed: changeset id {new_key} is taken")
            return None
        taken.add(new_key)
        up = "".join(s + ";\n" for s in statements)
        rollback = "".join(s + ";\n" for s in down) or "-- Nothing to revert.\n"
        why = "it cannot run in a transaction block" if not transactional else "it must run in its own transaction"
        if transactional:
            up = f"SET lock_timeout = {literal(fixer.timeout)};\n" + up
        new = NewMigration(rel="x.sql", header="", up=up, down=rollback, transactional=transactional)
        comment = f"moved out of changeset {author}:{key} by migrasafe fix: {why}"
        blocks.append(changeset(author, new_key, new, comment))
        for sql in statements:
            node = split_statements(sql)[0].node
            if isinstance(node, ast.IndexStmt) and node.idxname:
                moved.add(node.idxname)
    lines_count = fixer.text.count("\n") + 1
    at = fixer.starts[last] if last < lines_count and last < len(fixer.starts) else len(fixer.text)
    text = "".join(blocks).replace("\n", fixer.newline)
    if at == len(fixer.text):
        text = ("" if fixer.text.endswith("\n") else fixer.newline) + fixer.newline + text
    else:
        text = text + fixer.newline
    fixer.allow(at, at)
    fixer.edits.append(Edit(at, at, text))
    _drop_moved_rollbacks(fixer, first, last, moved)
    return []


def _drop_moved_rollbacks(fixer, first: int, last: int, moved: set[str]) -> None:
    """A `--rollback` line of the fixed changeset that only drops a moved index goes: the new
    changeset's rollback drops it, and rolling back the old one would then fail."""
    from pglast import ast

    from ...parse import split_statements
    from ..fix import Edit

    for index in range(first + 1, min(last, len(fixer.starts))):
        start = fixer.starts[index]
        end = fixer.starts[index + 1] if index + 1 < len(fixer.starts) else len(fixer.text)
        match = ROLLBACK.match(fixer.text[start:end])
        if not match or not moved:
            continue
        statements = split_statements(match.group(1))
        if statements and all(isinstance(s.node, ast.DropStmt) and len(s.node.objects or ()) == 1
                              and s.node.objects[0][-1].sval in moved for s in statements):
            fixer.allow(start, end - 1 if end > start else end)
            fixer.edits.append(Edit(start, end, ""))


def list_new(layout, migrations, now) -> list[tuple[str, str, str]]:
    """Include each new file from the master changelog, after its existing includes."""
    from ...sources.liquibase import find_master
    from ..errors import PlanError

    master = find_master(layout.root.resolve())
    if master is None:
        raise PlanError("no master changelog (db.changelog-master.yaml, .xml, .json or .sql) in this folder: "
                        "Liquibase runs the files a changelog includes, so name the folder that holds it")
    text = master.read_bytes().decode("utf-8")
    names = [Path(m.main).name for m in migrations]
    suffix = master.suffix.lower()
    if suffix in (".yaml", ".yml"):
        indent = next((m.group(1) for m in re.finditer(r"^(\s*)-\s", text, re.M)), "  ")
        added = "".join(f"{indent}- include:\n{indent}    file: {n}\n{indent}    relativeToChangelogFile: true\n"
                        for n in names)
        after = text + ("" if text.endswith("\n") else "\n") + added
    elif suffix == ".xml":
        close = text.rfind("</databaseChangeLog>")
        if close < 0:
            raise PlanError(f"{master.name} has no </databaseChangeLog> to include the new files before")
        added = "".join(f'    <include file="{n}" relativeToChangelogFile="true"/>\n' for n in names)
        line_start = text.rfind("\n", 0, close) + 1
        after = text[:line_start] + added + text[line_start:]
    elif suffix == ".json":
        data = json.loads(text)
        data["databaseChangeLog"] += [{"include": {"file": n, "relativeToChangelogFile": True}} for n in names]
        after = json.dumps(data, indent=2) + "\n"
    else:
        after = text + ("" if text.endswith("\n") else "\n") + "".join(
            f"--include file:{n} relativeToChangelogFile:true\n" for n in names)
    return [(master.name, text, after)]


WRITER = Writer(
    format="liquibase", main_file=main_file, files=files,
    rerun="run `liquibase update` again",
    rerun_outside=("a runInTransaction:false changeset that failed part way is not recorded as run: check what it "
                   "did, then run `liquibase update` again"),
    statement_by_statement=True, last_version=lambda versions: "", first_timestamp="%Y%m%d%H%M%S",
    opt_out=opt_out, add_to_history=add_to_history, list_new=list_new,
)
