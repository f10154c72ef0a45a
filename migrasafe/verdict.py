"""What a report amounts to: a verdict for people and an exit code for CI."""
from __future__ import annotations

from collections.abc import Iterator

from .model import Finding, MigrationResult, Report, severity_rank

FAIL_ON = ("info", "warning", "error", "never")


def reported(report: Report) -> Iterator[MigrationResult]:
    """The results the user asked about.

    Context migrations are analysed only to build the schema the others run against; their
    findings belong to someone else's change, so they are left out of output and verdict.
    """
    return (r for r in report.results if not r.migration.meta.get("context"))


def reported_findings(report: Report) -> Iterator[Finding]:
    yield from report.findings
    for result in reported(report):
        yield from result.all_findings()


def verdict(report: Report) -> str:
    worst = max((severity_rank(f.severity) for f in reported_findings(report)), default=-1)
    if worst >= severity_rank("error"):
        return "fail"
    if worst >= severity_rank("warning"):
        return "warn"
    return "pass"


def exit_code(report: Report, fail_on: str) -> int:
    """2 when some input could not be read or parsed, 1 when a finding reaches `fail_on`, else 0."""
    if report.broken:
        return 2
    if fail_on == "never":
        return 0
    threshold = severity_rank(fail_on)
    if any(severity_rank(f.severity) >= threshold for f in reported_findings(report)):
        return 1
    return 0


def input_errors(report: Report) -> list[str]:
    """`file:line: message` of each input that could not be read or parsed (up to three a migration)."""
    out = [f"{f.path}:{f.line}: {f.message}" for f in report.findings if f.rule == "MS099"]
    for result in report.results:
        if result.migration.broken:
            errors = [f for f in result.all_findings() if f.severity == "error"] or result.all_findings()
            out += [f"{f.path}:{f.line}: {f.message}" for f in errors[:3]] or [
                f"{result.migration.path}: could not be read or parsed"]
    return out
