"""GitHub Actions workflow commands (`--format github`): one annotation per finding.

    ::error file=migrations/V3__idx.sql,line=4,col=1,endLine=4,title=MS001 index-without-concurrently::...

Lines and columns are 1-based. Paths are made relative to `$GITHUB_WORKSPACE` when they lie
inside it, because that is how GitHub matches an annotation to a file of the pull request.
The last line is the text report's summary, which the log shows as plain text.
"""
from __future__ import annotations

from ..model import Report
from .located import Located, located_findings, repository_path

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(report: Report) -> str:
    from .text import Style, summary
    from ..verdict import reported

    lines = [annotation(item) for item in located_findings(report)]
    results = list(reported(report))
    lines.append(summary(report, len(results), sum(len(r.statements) for r in results), Style(False)))
    return "\n".join(lines) + "\n"


def annotation(item: Located) -> str:
    finding = item.finding
    properties = []
    path = repository_path(finding.path, "GITHUB_WORKSPACE")
    if path:
        properties.append(("file", path))
        if finding.line > 0:
            properties += [
                ("line", str(finding.line)),
                ("col", str(max(finding.column, 1))),
                ("endLine", str(item.end_line)),
            ]
    properties.append(("title", f"{finding.rule} {finding.name}"))
    message = finding.message
    if finding.lock:
        message += f"\nlock: {finding.lock}"
    if finding.fix:
        message += f"\nfix: {finding.fix}"
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{LEVELS.get(finding.severity, 'warning')} {joined}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
