"""Liquibase formatted SQL: a file's changesets, their attributes, and the lines that run forward.

From Liquibase's documentation ("Example SQL changelogs", "Changeset attributes") and its
FormattedSqlChangeLogParser: the first line is `--liquibase formatted sql`; each changeset starts
at a `--changeset author:id attr:value ...` line and runs to the next one; `--rollback` lines and
`/* liquibase rollback ... */` blocks, `--preconditions`, `--precondition-*`, `--comment` and
`--validCheckSum` lines are comments to the server and never run forward; `--ignoreLines:start`
... `--ignoreLines:end` (or `--ignoreLines:N`) leave lines out of the changeset. Anything but
comments before the first changeset makes Liquibase stop ("Unexpected formatting").
A `.sql` file without the header, when a changelog includes it, is one changeset of the whole file
(Liquibase's SqlChangeLogParser: author `includeAll`, id `raw`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Annotations are comment lines Liquibase reads (regexes on comments, never on SQL).
HEADER = re.compile(r"^\s*--\s*liquibase\s+formatted\s+sql", re.I)
CHANGESET = re.compile(r"^\s*--\s*changeset\s+(?P<author>\"[^\"]+\"|[^:\s]+)\s*:\s*(?P<id>\"[^\"]+\"|\S+)(?P<rest>.*)$",
                       re.I)
ATTRIBUTE = re.compile(r"(\w+):(\"[^\"]*\"|'[^']*'|\S*)")
INCLUDE = re.compile(r"^\s*--\s*include\s+file:\s*(\S+)(?P<rest>.*)$", re.I)
INCLUDE_ALL = re.compile(r"^\s*--\s*includeAll\s+path:\s*(\S+)(?P<rest>.*)$", re.I)
IGNORE_START = re.compile(r"^\s*--\s*ignoreLines:\s*start\s*$", re.I)
IGNORE_END = re.compile(r"^\s*--\s*ignoreLines:\s*end\s*$", re.I)
IGNORE_COUNT = re.compile(r"^\s*--\s*ignoreLines:\s*(\d+)\s*$", re.I)
# Liquibase's own name for PostgreSQL in `dbms:`.
POSTGRES = "postgresql"


@dataclass
class Changeset:
    author: str
    id: str
    start: int  # 0-based index of the `--changeset` line
    end: int  # 0-based index past its last line
    attributes: dict[str, str] = field(default_factory=dict)
    duplicate: bool = False  # another changeset of the file has the same author:id

    @property
    def key(self) -> str:
        return f"{self.author}:{self.id}"

    def flag(self, name: str, default: bool) -> bool:
        value = self.attributes.get(name.lower())
        return default if value is None else value.lower() == "true"

    def skipped_because(self) -> str | None:
        """Why Liquibase does not run this changeset on PostgreSQL, or None."""
        if self.flag("ignore", False):
            return "ignore:true: Liquibase skips this changeset"
        dbms = self.attributes.get("dbms")
        if dbms is None:
            return None
        names = [d.strip().lower() for d in dbms.split(",") if d.strip()]
        if f"!{POSTGRES}" in names or "none" in names:
            return f"dbms:{dbms}: Liquibase skips this changeset on PostgreSQL"
        wanted = [n for n in names if not n.startswith("!")]
        if wanted and POSTGRES not in wanted and "all" not in wanted:
            return f"dbms:{dbms}: Liquibase runs this changeset only there, not on PostgreSQL"
        return None


@dataclass
class FormattedFile:
    changesets: list[Changeset] = field(default_factory=list)
    includes: list[tuple[int, str, str, dict]] = field(default_factory=list)  # (line, kind, target, attributes)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def is_formatted(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return bool(HEADER.match(first))


def lines_of(text: str) -> list[str]:
    """Lines split on \\n only, ends kept, so counts agree with the statement splitter's."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def attributes_of(rest: str) -> dict[str, str]:
    return {k.lower(): v.strip("\"'") for k, v in ATTRIBUTE.findall(rest)}


def read_formatted(text: str) -> FormattedFile:
    out = FormattedFile()
    lines = lines_of(text)
    for index, line in enumerate(lines):
        match = CHANGESET.match(line)
        if match:
            if out.changesets:
                out.changesets[-1].end = index
            out.changesets.append(Changeset(match.group("author").strip('"'), match.group("id").strip('"'),
                                            index, len(lines), attributes_of(match.group("rest"))))
            continue
        include = INCLUDE.match(line) or INCLUDE_ALL.match(line)
        if include:
            kind = "include" if INCLUDE.match(line) else "includeAll"
            out.includes.append((index + 1, kind, include.group(1), attributes_of(include.group("rest"))))
            continue
        if not out.changesets and index > 0 and line.strip() and not _comment(line):
            out.problems.append((index + 1, "Liquibase stops here (\"Unexpected formatting\"): SQL before the "
                                            "first '--changeset' line belongs to no changeset"))
    seen: dict[str, int] = {}
    for changeset in out.changesets:
        if changeset.key in seen:
            changeset.duplicate = True
            out.problems.append((changeset.start + 1, f"Liquibase refuses the changelog: changeset {changeset.key} "
                                                      f"is also at line {seen[changeset.key]}"))
        else:
            seen[changeset.key] = changeset.start + 1
    return out


def _comment(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("--") or stripped.startswith("/*") or stripped.startswith("*")


def forward_text(lines: list[str], start: int, end: int, delimiter: str | None) -> tuple[str, list[tuple[int, int]]]:
    """The changeset's lines as they run, and its pieces as 0-based line ranges of the file.

    Left-out lines (`--ignoreLines`) become blank; a line that is only the end delimiter (`/`,
    `GO`) becomes `;` padded to its width, so the parser splits where Liquibase does and
    positions stay the file's own.
    """
    kept: list[str] = []
    pieces: list[tuple[int, int]] = []
    piece_start = start
    ignoring, count = False, 0
    for index in range(start, end):
        line = lines[index]
        if ignoring or count:
            count = max(count - 1, 0)
            ignoring = ignoring and not IGNORE_END.match(line)
            kept.append(_blank(line))
            continue
        if IGNORE_START.match(line):
            ignoring = True
            kept.append(_blank(line))
            continue
        counted = IGNORE_COUNT.match(line)
        if counted:
            count = int(counted.group(1))
            kept.append(_blank(line))
            continue
        body = line.rstrip("\r\n")
        if _is_delimiter_line(body, delimiter):
            ending = line[len(body):]
            kept.append(";" + " " * (len(body) - 1) + ending if body else line)
            pieces.append((piece_start, index))
            piece_start = index + 1
            continue
        kept.append(line)
    if piece_start < end:
        pieces.append((piece_start, end - 1))
    return "".join(kept), pieces


def _is_delimiter_line(body: str, delimiter: str | None) -> bool:
    token = body.strip()
    if not token:
        return False
    if delimiter is None or delimiter == ";":
        return token.lower() == "go"  # Liquibase's default delimiters are `;` and a `GO` line
    return token.lower() == delimiter.lower()


def _blank(line: str) -> str:
    body = line.rstrip("\r\n")
    return " " * len(body) + line[len(body):]
