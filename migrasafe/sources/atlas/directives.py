"""Atlas file directives: `-- atlas:<name> [args]` comments.

A directive about the whole file (txmode, delimiter, checkpoint, a file-wide nolint) sits in the
file header: comment lines at the very top, ended by an empty line. A `nolint` directive right
above a statement (in the comments attached to it) concerns that statement only
(https://atlasgo.io/versioned/apply#transaction-configuration, https://atlasgo.io/lint/analyzers,
ariga/atlas sql/migrate/dir.go `Directive`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DIRECTIVE = re.compile(r"^\s*(?:--|#)\s*atlas:(?P<name>[a-z_]+)\b[ \t]*(?P<args>.*?)\s*$")


@dataclass(frozen=True)
class Directive:
    name: str
    args: str
    line: int  # 1-based line in the file


def header_directives(text: str) -> list[Directive]:
    """Directives of the file header, or none when the top comments are not followed by an empty
    line (then they are the first statement's comments)."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.rstrip("\r")
        if not stripped:
            return found
        # Atlas reads header comments from the first column only (sql/migrate/dir.go `comments`).
        if not stripped.startswith(("--", "#")):
            return []
        match = DIRECTIVE.match(stripped)
        if match:
            found.append(Directive(match["name"], match["args"], number))
    return []  # a file of comments only has no header


def all_directives(text: str, name: str) -> list[Directive]:
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        match = DIRECTIVE.match(line)
        if match and match["name"] == name:
            out.append(Directive(name, match["args"], number))
    return out


def delimiter_of(args: str) -> str:
    """Atlas reads escape sequences in the delimiter (`\\n\\n`, `\\t`)."""
    return args.replace("\\n", "\n").replace("\\t", "\t")


def with_semicolons(text: str, delimiter: str, after_line: int) -> str:
    """The file with each custom delimiter after the header replaced by `;` and the same line
    breaks, so the SQL parser splits where Atlas does and lines stay the file's own."""
    lines = text.split("\n")
    head, body = "\n".join(lines[:after_line]), "\n".join(lines[after_line:])
    if not delimiter.strip():
        replaced = body.replace(delimiter, ";" + "\n" * delimiter.count("\n"))
    else:
        # A word delimiter (`GO`, `-- end`) stands on its own line.
        pattern = re.compile(r"^[ \t]*" + re.escape(delimiter.strip()) + r"[ \t]*$", re.M)
        replaced = pattern.sub(";", body)
    return head + ("\n" if lines[:after_line] else "") + replaced
