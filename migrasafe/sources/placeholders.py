"""Flyway `${name}` placeholders, replaced the way Flyway does it: as text, before parsing."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

# Flyway's own placeholders, with the values a fresh default setup would give them.
BUILT_INS = {
    "flyway:defaultSchema": "public",
    "flyway:user": "flyway",
    "flyway:database": "postgres",
    "flyway:timestamp": "2000-01-01 00:00:00",
    "flyway:table": "flyway_schema_history",
}

_PREFIX, _SUFFIX = "${", "}"
_LONGEST_NAME = 200


@dataclass
class Unresolved:
    name: str
    line: int
    column: int
    substitute: str


@dataclass
class Substituted:
    text: str
    unresolved: list[Unresolved] = field(default_factory=list)


def substitute(text: str, values: dict[str, str], filename: str) -> Substituted:
    known = dict(BUILT_INS)
    known["flyway:filename"] = filename
    known["flyway:workingDirectory"] = os.getcwd()
    known.update(values)
    lowered = {k.lower(): v for k, v in known.items()}
    out: list[str] = []
    unresolved: list[Unresolved] = []
    pos = 0
    while True:
        start = text.find(_PREFIX, pos)
        if start < 0:
            break
        end = text.find(_SUFFIX, start + len(_PREFIX))
        name = text[start + len(_PREFIX) : end] if end >= 0 else ""
        if end < 0 or not name or len(name) > _LONGEST_NAME or any(c.isspace() for c in name):
            out.append(text[pos : start + len(_PREFIX)])
            pos = start + len(_PREFIX)
            continue
        raw = text[start : end + len(_SUFFIX)]
        value = known.get(name, lowered.get(name.lower()))
        if value is None:
            value = _same_shape_identifier(name, len(raw))
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            unresolved.append(Unresolved(name, line, column, value))
        # Values stay on one line so every statement keeps its line number.
        out.append(text[pos:start])
        out.append(str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
        pos = end + len(_SUFFIX)
    out.append(text[pos:])
    return Substituted("".join(out), unresolved)


def _same_shape_identifier(name: str, width: int) -> str:
    """An identifier as wide as `${name}`, so the grammar accepts it and columns do not move."""
    word = "ph_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name.lower())
    return (word + "_" * width)[:width]
