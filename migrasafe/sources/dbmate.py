"""dbmate: one file per migration with `-- migrate:up` and `-- migrate:down` sections."""
from __future__ import annotations

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
            history.forward.append(Entry(
                file=file, rel=relative(root, file), version=match.group(1),
                description=match.group(2).lstrip("_-"),
            ))
    # dbmate sorts by file name, as strings.
    history.forward.sort(key=lambda e: string_key(e.file.name, e.rel))
    return history


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
    return any(directive(line, "up") is not None for line in _lines(text))


def _lines(text: str) -> list[str]:
    """Lines split on \\n only, ends kept, so counts agree with the statement splitter's."""
    return [line + "\n" for line in text.split("\n")[:-1]] + [text.split("\n")[-1]]


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
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
    options = dict(o.split(":", 1) for o in directive(lines[up], "up") if o.count(":") == 1)
    marker = None
    if options.get("transaction") == "false":
        marker = Marker(False, "'-- migrate:up transaction:false' turns off dbmate's transaction")
    section = "".join(lines[up:down])
    return Prepared(section, line_offset=up, marker=marker, findings=notes, broken=bool(notes))


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
