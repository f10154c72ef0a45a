"""Differences between two snapshots, object by object, in the words a DBA uses."""
from __future__ import annotations

from dataclasses import dataclass

from .model import SchemaObject, Snapshot, sort_key

# Attributes whose values say what they are ("NOT NULL", "invalid"): the message leaves the name out.
SELF_DESCRIBING = {"nullability", "validity", "persistence", "strictness", "security", "parallel safety",
                   "volatility", "cycle", "grant option", "state"}
LIST_SEPARATORS = {"constraints": "; "}


@dataclass(frozen=True)
class Difference:
    """One way two snapshots differ.

    `change` is "removed" (only in the first snapshot), "added" (only in the second) or
    "changed" (in both; `attribute` names what differs, `before` and `after` its two values).
    For an enum, each value on one side only is a difference of its own: "removed" or "added",
    with attribute "value" and the value as `before` or `after`.
    """

    kind: str
    identity: str
    change: str
    message: str
    attribute: str | None = None
    before: object = None
    after: object = None

    def to_json(self) -> dict:
        def plain(value):
            return list(value) if isinstance(value, tuple) else value

        out = {"kind": self.kind, "identity": self.identity, "change": self.change, "message": self.message}
        if self.attribute is not None:
            out.update(attribute=self.attribute, before=plain(self.before), after=plain(self.after))
        return out


def diff(before: Snapshot, after: Snapshot, labels: tuple[str, str] = ("before", "after")) -> list[Difference]:
    """How `after` differs from `before`; `labels` name the two in the messages
    (``("the migrations", "the database")``: "index public.t_a_idx is only in the database").

    An object whose parent is itself on one side only (the columns of a table that is missing)
    is not listed: the parent's difference says it.
    """
    first, second = labels
    out: list[Difference] = []
    for key in sorted(before.objects.keys() | after.objects.keys(), key=sort_key):
        old, new = before.objects.get(key), after.objects.get(key)
        if new is None:
            if not implied(old, after):
                out.append(Difference(old.kind, old.identity, "removed", f"{old.kind} {old.identity} is only in {first}"))
        elif old is None:
            if not implied(new, before):
                out.append(Difference(new.kind, new.identity, "added", f"{new.kind} {new.identity} is only in {second}"))
        else:
            out.extend(changes(old, new, first, second))
    return out


def implied(obj: SchemaObject, other: Snapshot) -> bool:
    """The object is on one side only because its parent is."""
    return obj.parent is not None and obj.parent not in other.objects


def changes(old: SchemaObject, new: SchemaObject, first: str, second: str) -> list[Difference]:
    out = []
    for name in list(dict.fromkeys([*old.attributes, *new.attributes])):
        a, b = old.attributes.get(name), new.attributes.get(name)
        if a == b:
            continue
        if old.kind == "enum" and name == "values":
            out.extend(enum_changes(old, a or (), b or (), first, second))
            continue
        subject = f"{old.kind} {old.identity}"
        if name in SELF_DESCRIBING:
            text = f"{subject}: {show(name, a)} in {first}, {show(name, b)} in {second}"
        else:
            text = f"{subject}: {name} {show(name, a)} in {first}, {show(name, b)} in {second}"
        out.append(Difference(old.kind, old.identity, "changed", text, name, a, b))
    return out


def enum_changes(old: SchemaObject, a: tuple, b: tuple, first: str, second: str) -> list[Difference]:
    subject = f"enum {old.identity}"
    out = [Difference("enum", old.identity, "removed", f"{subject}: value {literal(v)} is only in {first}",
                      "value", v, None) for v in a if v not in b]
    out += [Difference("enum", old.identity, "added", f"{subject}: value {literal(v)} is only in {second}",
                       "value", None, v) for v in b if v not in a]
    if not out:  # the same values in another order
        out.append(Difference("enum", old.identity, "changed",
                              f"{subject}: values in the order {show('values', a)} in {first}, "
                              f"{show('values', b)} in {second}", "values", a, b))
    return out


def show(name: str, value) -> str:
    if value is None:
        return f"no {name}"
    if isinstance(value, tuple):
        if name == "values":
            return ", ".join(literal(v) for v in value)
        return LIST_SEPARATORS.get(name, ", ").join(value) if value else f"no {name}"
    return " ".join(str(value).split())


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
