"""Results and catalogs as plain JSON and back. Only the classes listed here are rebuilt, from
their fields: a cache file can hold data, never code."""
from __future__ import annotations

import dataclasses

from ..catalog import state
from .. import model

CLASSES = {
    cls.__name__: cls for cls in (
        model.Finding, model.Statement, model.Migration, model.Lock, model.IndexLock, model.Impact, model.AnalysedStatement,
        model.MigrationResult,
        state.TypeSpec, state.Column, state.Constraint, state.Index, state.Relation, state.EnumType,
        state.Domain, state.Routine, state.Catalog,
    )
}
FIELDS = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in CLASSES.items()}
# Data the analysis needs no more and a report never shows: a statement's syntax tree, the text of
# a migration (suppressions were applied before the result is stored).
DROPPED = {("Statement", "node"), ("Statement", "_text"), ("Migration", "text")}


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


# Results, the bulk of a warm run's reading, in a positional form decoded without the generic walk.
# Every value here is a str, int, bool or None, or a list of them; anything else (a migration's
# `meta`, a statement's `notes` and `observed`) goes through encode/decode above.
_FINDING = [f.name for f in dataclasses.fields(model.Finding)]
_STATEMENT = [f.name for f in dataclasses.fields(model.Statement) if f.name not in ("node", "_text")]
_MIGRATION = [f.name for f in dataclasses.fields(model.Migration) if f.name not in ("text", "statements", "findings", "meta")]


def encode_result(result: model.MigrationResult) -> dict:
    migration = result.migration
    own = [a.statement for a in result.statements]
    shared = len(own) == len(migration.statements) and all(a is b for a, b in zip(own, migration.statements))
    return {
        "fields": [_FINDING, _STATEMENT, _MIGRATION],
        "migration": [getattr(migration, f) for f in _MIGRATION],
        "meta": encode(migration.meta),
        "migration_findings": [_finding(f) for f in migration.findings],
        "statements": None if shared else [_statement(s) for s in migration.statements],
        "analysed": [[_statement(a.statement), _locks(a.impact), a.impact.rewrites,
                      a.impact.scans, a.impact.transactional, encode(a.impact.notes), a.in_transaction,
                      sorted(a.live), a.strong_lock_held, [_finding(f) for f in a.findings],
                      [_finding(f) for f in a.folded], encode(a.observed)] for a in result.statements],
        "findings": [_finding(f) for f in result.findings],
    }


def _locks(impact: model.Impact) -> list[list[str]]:
    """[relation, mode] of each lock, then [index, mode, table] of each index lock."""
    return [[l.relation, l.mode] for l in impact.locks] + [[l.index, l.mode, l.table] for l in impact.index_locks]


def decode_result(data: dict) -> model.MigrationResult:
    if data["fields"] != [_FINDING, _STATEMENT, _MIGRATION]:
        raise ValueError("written by a migrasafe whose results had other fields")
    finding, statement = _finding_from, _statement_from
    analysed = []
    for (stmt, locks, rewrites, scans, transactional, notes, in_tx, live, strong, found, folded,
         observed) in data["analysed"]:
        impact = model.Impact(locks=[model.Lock(*lock) for lock in locks if len(lock) == 2], rewrites=rewrites,
                              scans=scans, transactional=transactional, notes=decode(notes),
                              index_locks=[model.IndexLock(l[0], l[2], l[1]) for l in locks if len(l) == 3])
        analysed.append(model.AnalysedStatement(
            statement(stmt), impact, in_tx, live=set(live), strong_lock_held=strong,
            findings=[finding(f) for f in found], folded=[finding(f) for f in folded], observed=decode(observed)))
    migration = model.Migration(**dict(zip(_MIGRATION, data["migration"])))
    migration.meta = decode(data["meta"])
    migration.findings = [finding(f) for f in data["migration_findings"]]
    statements = data["statements"]
    migration.statements = [a.statement for a in analysed] if statements is None else [statement(s) for s in statements]
    return model.MigrationResult(migration, analysed, [finding(f) for f in data["findings"]])


def _finding(f: model.Finding) -> list:
    values = [getattr(f, name) for name in _FINDING]
    values[-1] = list(f.span) if f.span is not None else None
    return values


def _finding_from(values: list) -> model.Finding:
    f = model.Finding(*values)
    if f.span is not None:
        f.span = tuple(f.span)
    return f


def _statement(s: model.Statement) -> list:
    return [getattr(s, name) for name in _STATEMENT]


def _statement_from(values: list) -> model.Statement:
    return model.Statement(**dict(zip(_STATEMENT, values)))
