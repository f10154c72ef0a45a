"""What the round trips found, and how each finding is said.

Every finding names the object and points at the file and line of the part it is about: a
difference at the backward part ("down of 000002_add_index.down.sql leaves index public.t_a_idx
behind"), a failure at the statement the server refused. Errors fail the run (exit 1); infos
(no backward part, one the tool declares irreversible, what could not be rendered) do not;
input errors are exit 2.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..snapshot import Difference
from ..snapshot.diff import literal, show

# A round trip's status, in the order the summary counts them.
RESTORED = "restored"
NOT_RESTORED = "not restored"
FAILED = "failed"
MISSING = "no backward part"
IRREVERSIBLE = "irreversible"
FORWARD_ONLY = "forward only"
NOT_VERIFIED = "not verified"
STATUSES = (RESTORED, NOT_RESTORED, FAILED, MISSING, IRREVERSIBLE, FORWARD_ONLY, NOT_VERIFIED)


@dataclass
class Note:
    severity: str  # "error" | "info"
    kind: str  # difference | again | failure | check | missing | irreversible | note | stopped | input
    message: str
    path: str
    line: int
    difference: Difference | None = None

    def to_json(self) -> dict:
        out = {"severity": self.severity, "kind": self.kind, "message": self.message, "path": self.path,
               "line": self.line}
        if self.difference is not None:
            out["difference"] = self.difference.to_json()
        return out


@dataclass
class TripResult:
    name: str  # the migration as its tool names it
    path: str  # the forward migration's file
    label: str  # "down of 000002_add_index.down.sql"
    backward_path: str
    status: str
    notes: list[Note] = field(default_factory=list)
    why: str = ""  # for a forward-only step: why it had no round trip

    def to_json(self) -> dict:
        out = {"name": self.name, "path": self.path, "backward": self.backward_path or None, "status": self.status,
               "findings": [n.to_json() for n in self.notes]}
        if self.why:
            out["why"] = self.why
        return out


@dataclass
class ChainResult:
    root: str
    format: str
    trips: list[TripResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"root": self.root, "format": self.format, "round_trips": [t.to_json() for t in self.trips]}


@dataclass
class VerifyReport:
    server: str = ""
    chains: list[ChainResult] = field(default_factory=list)
    problems: list[Note] = field(default_factory=list)  # input errors
    elapsed_ms: float = 0.0

    def notes(self) -> list[Note]:
        return self.problems + [n for c in self.chains for t in c.trips for n in t.notes]

    def counts(self) -> dict[str, int]:
        counted = {status: 0 for status in STATUSES}
        for chain in self.chains:
            for trip in chain.trips:
                counted[trip.status] += 1
        return counted

    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if any(n.severity == "error" for n in self.notes()) else 0

    def to_json(self) -> dict:
        return {"server": self.server, "histories": [c.to_json() for c in self.chains],
                "problems": [p.to_json() for p in self.problems], "summary": self.counts(),
                "exit_code": self.exit_code(), "elapsed_ms": round(self.elapsed_ms, 1)}


def not_restored(label: str, d: Difference) -> str:
    """What the backward part left different from the schema before its migration."""
    subject = f"{d.kind} {d.identity}"
    if d.kind == "enum" and d.attribute == "value":  # one value only on one side
        if d.after is None:
            return f"{label} does not restore value {literal(d.before)} of enum {d.identity}"
        return f"{label} leaves value {literal(d.after)} of enum {d.identity} behind"
    if d.change == "added":
        return f"{label} leaves {subject} behind"
    if d.change == "removed":
        return f"{label} does not restore {subject}"
    name = d.attribute
    if d.before is None:
        return f"{label} leaves {subject}'s {name} {show(name, d.after)} behind"
    now = f"it is {show(name, d.after)}" if d.after is not None else "it has none"
    return f"{label} does not restore {subject}'s {name} {show(name, d.before)} ({now})"


def applied_again(name: str, word: str, d: Difference) -> str:
    """What differs between the first application of a migration and the one after its backward part."""
    return f"{name} applied again after its {word} gives another schema than the first time: {d.message}"
