"""Results and catalogs as plain JSON and back. Only the classes listed here are rebuilt, from
their fields: a cache file can hold data, never code."""
from __future__ import annotations

import dataclasses

from ..catalog import state
from .. import model

CLASSES = {
    cls.__name__: cls for cls in (
        model.Finding, model.Statement, model.Migration, model.Lock, model.Impact, model.AnalysedStatement,
        model.MigrationResult,
        state.TypeSpec, state.Column, state.Constraint, state.Index, state.Relation, state.EnumType,
        state.Domain, state.Catalog,
    )
}
FIELDS = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in CLASSES.items()}
# Data the analysis needs no more and a report never shows: a statement's syntax tree, the text of
# a migration (suppressions were applied before the result is stored).
DROPPED = {("Statement", "node"), ("Migration", "text")}


class NotStorable(Exception):
    """A value the cache cannot hold as plain data; the migration is then simply not cached."""


def encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"s": sorted((encode(v) for v in value), key=repr)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"d": {k: encode(v) for k, v in value.items()}}
        return {"p": [[encode(k), encode(v)] for k, v in value.items()]}
    name = type(value).__name__
    if name in CLASSES and type(value) is CLASSES[name]:
        return {"c": name, "f": {f: encode(getattr(value, f)) for f in FIELDS[name] if (name, f) not in DROPPED}}
    raise NotStorable(f"{type(value).__name__} is not plain data")


def decode(data):
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError("not an encoded value")
    if "t" in data:
        return tuple(decode(v) for v in data["t"])
    if "s" in data:
        return {_hashable(decode(v)) for v in data["s"]}
    if "d" in data:
        return {k: decode(v) for k, v in data["d"].items()}
    if "p" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["p"]}
    cls = CLASSES[data["c"]]  # KeyError for anything else: the entry is then not trusted
    fields = data["f"]
    if not set(fields) <= FIELDS[data["c"]]:
        raise ValueError(f"{data['c']} has no such fields")
    return cls(**{k: decode(v) for k, v in fields.items()})


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value
