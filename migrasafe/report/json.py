"""The JSON report (`--format json`). Its shape is a public contract: see docs/json-output.md."""
from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring as _string

from ..model import AnalysedStatement, Finding, MigrationResult, Report
from ..verdict import reported, verdict


def render_json(report: Report) -> str:
    return "".join(render_json_chunks(report))


# Compact: the indenting encoder is pure Python and dominates the time on large reports. One
# encoder for the whole report, as json.dumps would make with these settings on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_dumps = _ENCODER.encode


# Stand-ins for the long lists while the rest of an object is encoded; the lists are then
# encoded a piece at a time in their place, so a large report never exists whole as one
# object tree or one string. The text is the same as encoding it all at once.
_MIGRATIONS = "\x00migrasafe migrations\x00"
_STATEMENTS = "\x00migrasafe statements\x00"
_BATCH = 512


def render_json_chunks(report: Report) -> Iterator[str]:
    """The JSON report in pieces that make, joined, exactly `render_json`'s text."""
    before, after = _dumps(report_to_json(report, migrations=_MIGRATIONS)).split(_dumps(_MIGRATIONS), 1)
    yield before + "["
    for number, result in enumerate(reported(report)):
        head, tail = _dumps(migration_to_json(result, statements=_STATEMENTS)).split(_dumps(_STATEMENTS), 1)
        yield ("," if number else "") + head + "["
        statements = result.statements
        copies = getattr(statements, "plain", None)  # a large migration's (packed/): read as plain objects
        encode = _StatementEncoder().encode
        for start in range(0, len(statements), _BATCH):
            batch = copies(start, start + _BATCH) if copies is not None else statements[start:start + _BATCH]
            piece = ",".join([encode(s) for s in batch])
            yield ("," if start else "") + piece
        yield "]" + tail
    yield "]" + after + "\n"


def report_to_json(report: Report, *, migrations=None) -> dict:
    from . import tool_version

    out = {
        "tool": "migrasafe",
        "version": tool_version(),
        "pg_version": report.pg_version,
        "verdict": verdict(report),
        "findings": [run_finding(f) for f in report.findings],
        "migrations": [migration_to_json(r) for r in reported(report)] if migrations is None else migrations,
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped.items()],
    }
    if report.replay is not None:
        out["replay"] = report.replay
    return out


def migration_to_json(result: MigrationResult, *, statements=None) -> dict:
    migration = result.migration
    out: dict = {
        "path": migration.path,
        "format": migration.format,
        "version": migration.version,
    }
    if migration.meta.get("revision"):
        out["revision"] = migration.meta["revision"]
    if migration.format == "django":
        out["app"], out["name"] = migration.meta.get("app", ""), migration.meta.get("name", "")
    out["in_transaction"] = migration.in_transaction
    out["transaction_reason"] = migration.transaction_reason
    out["findings"] = [located_finding(f) for f in result.findings]
    if migration.meta.get("suppressed"):
        out["suppressed"] = migration.meta["suppressed"]  # findings a directive in the file suppressed
    out["statements"] = [statement_to_json(s) for s in result.statements] if statements is None else statements
    return out


def statement_to_json(analysed: AnalysedStatement) -> dict:
    statement = analysed.statement
    out = {
        "index": statement.index,
        "line": statement.line,
        "column": statement.column,
        "sql": statement.sql,
        "locks": [{"relation": lock.relation, "mode": lock.mode} for lock in analysed.impact.locks],
        "rewrites": list(analysed.impact.rewrites),
        "findings": [f.to_json() for f in analysed.findings],
    }
    if analysed.impact.index_locks:
        out["index_locks"] = [{"index": lock.index, "table": lock.table or None, "mode": lock.mode}
                              for lock in analysed.impact.index_locks]
    if analysed.observed is not None:
        out["observed"] = analysed.observed
    return out


class _StatementEncoder:
    """`_dumps(statement_to_json(s))`, written out: statements share their Lock objects
    (locks/builder.py), so the text of each lock is made once for all that take it. Anything but
    the plain record (observed results, a number or text of another type) is encoded the general
    way."""

    def __init__(self):
        self._locks: dict[int, tuple] = {}  # id(lock) -> (lock, its text)

    def encode(self, analysed: AnalysedStatement) -> str:
        statement = analysed.statement
        index, line, column, sql = statement.index, statement.line, statement.column, statement.sql
        if (analysed.observed is not None or analysed.impact.index_locks or index.__class__ is not int or line.__class__ is not int
                or column.__class__ is not int or sql.__class__ is not str):
            return _dumps(statement_to_json(analysed))
        impact = analysed.impact
        texts = self._locks
        locks = []
        for lock in impact.locks:
            known = texts.get(id(lock))
            if known is None or known[0] is not lock:
                relation, mode = lock.relation, lock.mode
                text = (f'{{"relation":{_string(relation)},"mode":{_string(mode)}}}'
                        if relation.__class__ is str and mode.__class__ is str
                        else _dumps({"relation": relation, "mode": mode}))
                known = texts[id(lock)] = (lock, text)
            locks.append(known[1])
        rewrites = impact.rewrites
        rewritten = _dumps(list(rewrites)) if rewrites else "[]"
        findings = analysed.findings
        found = ",".join([_dumps(f.to_json()) for f in findings]) if findings else ""
        return (f'{{"index":{index},"line":{line},"column":{column},"sql":{_string(sql)},'
                f'"locks":[{",".join(locks)}],"rewrites":{rewritten},"findings":[{found}]}}')


def located_finding(finding: Finding) -> dict:
    return {**finding.to_json(), "line": finding.line, "column": finding.column}


def run_finding(finding: Finding) -> dict:
    return {**finding.to_json(), "path": finding.path, "line": finding.line, "column": finding.column}
