"""Migration files whose parts are marked by annotation comments on their own lines (goose's
`-- +goose Up`, sql-migrate's `-- +migrate Up`): which lines run forward (or backward, the Down
part), and the tool's options.

The part kept keeps the file's own line numbers: lines of other parts are blanked, not removed,
so positions in findings are the file's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass
class Annotation:
    line: int  # 1-based
    command: str  # normalised: "up", "down", "statementbegin", "statementend", "no transaction", ...
    options: list[str] = field(default_factory=list)


@dataclass
class Sections:
    forward: str  # the file with every line outside the part asked for (Up by default) blanked
    annotations: list[Annotation]
    up_line: int | None  # line of the Up annotation
    blocks: list[tuple[int, int]] = field(default_factory=list)  # StatementBegin..End line ranges, that part
    stray_line: int | None = None  # first SQL line before the Up annotation
    down_line: int | None = None  # line of the Down annotation


def split_sections(text: str, annotation: Callable[[str], tuple[str, list[str]] | None],
                   keep: str = "up") -> Sections:
    """`annotation(line)` → (command, options) when the line is one of the tool's annotations;
    `keep`: the part whose lines are kept, "up" or "down"."""
    lines = text.split("\n")
    out: list[str] = []
    found: list[Annotation] = []
    part = None  # None before Up, then "up" or "down"
    up_line = stray = down_line = None
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
                down_line = down_line or number
            elif command == "statementbegin" and part == keep:
                block_start = number
            elif command == "statementend" and part == keep and block_start is not None:
                blocks.append((block_start, number))
                block_start = None
            out.append("")
            continue
        if part is None and stray is None and _is_sql(line):
            stray = number
        out.append(line if part == keep else "")
    return Sections("\n".join(out), found, up_line, blocks, stray, down_line)


def has_part(path: Path, annotation: Callable[[str], tuple[str, list[str]] | None], part: str) -> bool:
    """Does the file hold an annotation starting `part` ("down")? False when it cannot be read:
    reading it forward reports why."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any((annotation(line.rstrip("\r")) or ("",))[0] == part for line in text.split("\n"))


def _is_sql(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("--")
