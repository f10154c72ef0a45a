"""Migration files whose parts are marked by annotation comments on their own lines (goose's
`-- +goose Up`, sql-migrate's `-- +migrate Up`): which lines run forward, and the tool's options.

The forward part keeps the file's own line numbers: lines of other parts are blanked, not removed,
so positions in findings are the file's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Annotation:
    line: int  # 1-based
    command: str  # normalised: "up", "down", "statementbegin", "statementend", "no transaction", ...
    options: list[str] = field(default_factory=list)


@dataclass
class Sections:
    forward: str  # the file with every line outside the Up part blanked
    annotations: list[Annotation]
    up_line: int | None  # line of the Up annotation
    blocks: list[tuple[int, int]] = field(default_factory=list)  # StatementBegin..End line ranges, Up part
    stray_line: int | None = None  # first SQL line before the Up annotation


def split_sections(text: str, annotation: Callable[[str], tuple[str, list[str]] | None]) -> Sections:
    """`annotation(line)` → (command, options) when the line is one of the tool's annotations."""
    lines = text.split("\n")
    out: list[str] = []
    found: list[Annotation] = []
    part = None  # None before Up, then "up" or "down"
    up_line = stray = None
    blocks: list[tuple[int, int]] = []
    block_start = None
    for number, line in enumerate(lines, 1):
        parsed = annotation(line.rstrip("\r"))
        if parsed is not None:
            command, options = parsed
            found.append(Annotation(number, command, options))
            if command == "up" and part is None:
                part, up_line = "up", number
            elif command == "down":
                part = "down"
            elif command == "statementbegin" and part == "up":
                block_start = number
            elif command == "statementend" and part == "up" and block_start is not None:
                blocks.append((block_start, number))
                block_start = None
            out.append("")
            continue
        if part is None and stray is None and _is_sql(line):
            stray = number
        out.append(line if part == "up" else "")
    return Sections("\n".join(out), found, up_line, blocks, stray)


def _is_sql(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("--")
