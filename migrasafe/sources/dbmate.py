"""dbmate: one file per migration with `-- migrate:up` and `-- migrate:down` sections.

`dbmate rollback` runs the down section, in a transaction unless `-- migrate:down transaction:false`;
a file with a down section is listed in `History.reverse` too (options["part"] = "down").
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..config import Config
from . import findings
from .entries import Entry, History
from .formats import Prepared, SourceFormat
from .listing import files_in, relative, sniff
from .transactions import Marker, Runner
from .versions import string_key

# dbmate's file name pattern: the leading digits are the version.
FILE_NAME = re.compile(r"^(\d+)(.*)\.sql$")


def list_history(root: Path) -> History:
    history = History(root=root, format="dbmate")
    for file in files_in(root):
        match = FILE_NAME.match(file.name)
        if match:
            entry = Entry(file=file, rel=relative(root, file), version=match.group(1),
                          description=match.group(2).lstrip("_-"))
            history.forward.append(entry)
            if _has_down(file):
                history.reverse.append(dataclasses.replace(entry, kind="undo", options={"part": "down"}))
    # dbmate sorts by file name, as strings.
    history.forward.sort(key=lambda e: string_key(e.file.name, e.rel))
    history.reverse.sort(key=lambda e: string_key(e.file.name, e.rel))
    return history


def _has_down(file: Path) -> bool:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False  # reading it forward reports why
    return any(directive(line, "down") is not None for line in text.split("\n"))


def directive(line: str, section: str) -> list[str] | None:
    """The options of a `-- migrate:up` / `-- migrate:down` line (a comment dbmate reads), or None."""
    if not line.startswith("--"):
        return None
    rest = line[2:].lstrip()
    word = "migrate:" + section
    if not rest.startswith(word):
        return None
    tail = rest[len(word):]
    if tail and not tail[0].isspace():
        return None
    return tail.split()


def has_up_directive(text: str) -> bool:
    if "migrate:up" not in text:  # no directive at all: the lines need not be read
        return False
    return any(directive(line, "up") is not None for line in _lines(text))


def _lines(text: str) -> list[str]:
    """Lines split on \\n only, ends kept, so counts agree with the statement splitter's."""
    return [line + "\n" for line in text.split("\n")[:-1]] + [text.split("\n")[-1]]


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    """The up section; the down section for an entry of `History.reverse`."""
    lines = _lines(text)
    up = next((i for i, line in enumerate(lines) if directive(line, "up") is not None), None)
    if up is None:
        return Prepared("", findings=[findings.input_error(
            display, "dbmate refuses this file: it has no '-- migrate:up' section",
            fix="start the migration with a '-- migrate:up' line",
        )], broken=True)
    down = next((i for i in range(up + 1, len(lines)) if directive(lines[i], "down") is not None), len(lines))
    notes = []
    early_down = next((i for i in range(up) if directive(lines[i], "down") is not None), None)
    stray = next((i for i in range(up) if lines[i].strip() and not lines[i].lstrip().startswith("--")), None)
    if early_down is not None:
        notes.append(findings.input_error(
            display, "dbmate refuses this file: '-- migrate:down' comes before '-- migrate:up'",
            line=early_down + 1, fix="put the up section first",
        ))
    elif stray is not None:
        notes.append(findings.input_error(
            display, "dbmate refuses this file: statements come before '-- migrate:up'", line=stray + 1,
            fix="move them below the '-- migrate:up' line",
        ))
    part = entry.options.get("part", "up")
    start, end = (up, down) if part == "up" else (down, len(lines))
    if start == len(lines):  # listed for its down section, which is no longer there
        return Prepared("", line_offset=start)
    options = dict(o.split(":", 1) for o in directive(lines[start], part) if o.count(":") == 1)
    marker = None
    if options.get("transaction") == "false":
        marker = Marker(False, f"'-- migrate:{part} transaction:false' turns off dbmate's transaction")
    section = "".join(lines[start:end])
    return Prepared(section, line_offset=start, marker=marker, findings=notes, broken=bool(notes))


def annotation(line: str) -> tuple[str, list[str]] | None:
    """("up" or "down", options) of a `-- migrate:up` / `-- migrate:down` line, as the annotated
    layouts' readers tell their parts apart (sources/annotated.py)."""
    for part in ("up", "down"):
        options = directive(line, part)
        if options is not None:
            return part, options
    return None


def detect(folder: Path) -> bool:
    return any(FILE_NAME.match(p.name) and has_up_directive(sniff(p)) for p in files_in(folder))


FORMAT = SourceFormat(
    name="dbmate", list_history=list_history, prepare=prepare, detect=detect,
    looks_like="dbmate (<version>_<name>.sql with '-- migrate:up')",
    outside_transaction="move it to its own migration with '-- migrate:up transaction:false'",
    runner=Runner(
        wraps=True,
        wrapped="dbmate runs each migration in a transaction",
        unwrapped="dbmate runs this migration without a transaction",
        whole_file_query=True,
    ),
)
