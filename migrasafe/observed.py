"""Bring a replay's results into a check's report (`migrasafe check --observed FILE`).

The file is a JSON report (docs/json-output.md) written by `migrasafe replay --format json` or
`migrasafe check --replay --format json`: its statements carry an `observed` object, and the
replay adds findings of its own (over budget, model mismatch, ...). Both are copied onto the
report, matching migrations by path and statements by index, so every output format — and the
exit code — shows what the replay found. Findings the report already has are not repeated.
"""
from __future__ import annotations

import json
from pathlib import Path

from .model import Finding, Report, SEVERITIES


class ObservedError(Exception):
    """A replay file that cannot be used; the message names it."""


def attach_observed(report: Report, path: Path) -> int:
    """Copy the replay's figures and findings onto the report; returns how many statements got figures."""
    document = read_document(path)
    migrations = {m["path"]: m for m in document["migrations"] if isinstance(m, dict) and isinstance(m.get("path"), str)}
    attached = 0
    for result in report.results:
        replayed = migrations.get(result.migration.path)
        if replayed is None:
            continue
        migration_path = result.migration.path
        add_new(result.findings, (entry_finding(f, migration_path) for f in listed(replayed.get("findings"))))
        statements = {s.get("index"): s for s in listed(replayed.get("statements"))}
        for analysed in result.statements:
            statement = statements.get(analysed.statement.index)
            if statement is None:
                continue
            if isinstance(statement.get("observed"), dict):
                analysed.observed = statement["observed"]
                attached += 1
            where = analysed.statement
            add_new(analysed.findings, (
                entry_finding(f, where.origin_path or migration_path, where.line, where.column, where.index)
                for f in listed(statement.get("findings"))
            ))
    add_new(report.findings, (entry_finding(f, f.get("path", "")) for f in listed(document.get("findings"))))
    return attached


def read_document(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ObservedError(f"--observed {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ObservedError(f"--observed {path}: cannot read: {err}") from None
    except ValueError as err:
        raise ObservedError(f"--observed {path}: not valid JSON: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("migrations"), list):
        raise ObservedError(f"--observed {path}: not a migrasafe JSON report (no \"migrations\" list)")
    return document


def listed(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def entry_finding(entry: dict, path: str, line: int | None = None, column: int | None = None,
                  statement_index: int | None = None) -> Finding | None:
    """A Finding from its JSON form; None when the entry lacks what a finding needs."""
    rule, severity = entry.get("rule"), entry.get("severity")
    if not isinstance(rule, str) or severity not in SEVERITIES:
        return None
    line = line if line is not None else entry.get("line")
    column = column if column is not None else entry.get("column")
    return Finding(
        rule=rule, name=str(entry.get("name") or rule.lower()), severity=severity,
        message=str(entry.get("message") or ""), path=path,
        line=line if isinstance(line, int) else 0, column=column if isinstance(column, int) else 1,
        fix=str(entry.get("fix") or ""), statement_index=statement_index,
    )


def add_new(findings: list[Finding], candidates) -> None:
    seen = {(f.rule, f.message, f.line) for f in findings}
    for finding in candidates:
        if finding is not None and (finding.rule, finding.message, finding.line) not in seen:
            seen.add((finding.rule, finding.message, finding.line))
            findings.append(finding)
