"""Every reported finding with the migration and statement it belongs to.

The CI formats all need the same walk: run-level findings first, then each reported migration's
findings in file order, each with the statement it points at (for end lines and fingerprints).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Finding, MigrationResult, Report, Statement
from ..verdict import reported


@dataclass
class Located:
    finding: Finding
    result: MigrationResult | None  # None for run-level findings
    statement: Statement | None

    @property
    def end_line(self) -> int:
        if self.statement is not None and self.statement.end_line >= self.finding.line:
            return self.statement.end_line
        return self.finding.line


def located_findings(report: Report) -> Iterator[Located]:
    for finding in report.findings:
        yield Located(finding, None, None)
    for result in reported(report):
        yield from located_in(result)


def located_in(result: MigrationResult) -> Iterator[Located]:
    by_index = {a.statement.index: a.statement for a in result.statements}
    pairs = [
        Located(f, result, by_index.get(f.statement_index) if f.statement_index is not None else None)
        for f in result.findings
    ]
    for analysed in result.statements:
        pairs.extend(Located(f, result, analysed.statement) for f in analysed.findings)
    pairs.sort(key=lambda item: (item.finding.line, item.finding.column, item.finding.rule))
    return iter(pairs)


def statement_digest(statement: Statement | None, finding: Finding) -> str:
    """A short hash of what the finding is about that survives edits elsewhere in the file.

    The statement's text with its whitespace collapsed, so moving a statement down a few lines or
    re-indenting it keeps the same digest; a finding about the file as a whole uses its message.
    """
    subject = " ".join(statement.sql.split()) if statement is not None else finding.message
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:16]


def fingerprints(items: list[Located]) -> list[str]:
    """A stable, unique id per finding: rule, file and statement digest, numbered when repeated."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        key = f"{item.finding.rule}:{item.finding.path}:{statement_digest(item.statement, item.finding)}"
        seen[key] = seen.get(key, 0) + 1
        out.append(hashlib.sha256(f"{key}:{seen[key]}".encode("utf-8")).hexdigest())
    return out


def repository_path(path: str, root_variable: str) -> str:
    """`path` relative to the CI checkout named by an environment variable, with forward slashes.

    Annotations are matched to files by their path from the repository root, which is where CI
    usually runs migrasafe; a path outside the checkout is left as it was given.
    """
    if not path:
        return path
    root = os.environ.get(root_variable)
    if root:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, os.path.abspath(root))
        if not relative.startswith(".."):
            path = relative
    return path.replace(os.sep, "/")
