"""GitLab Code Quality report (`--format gitlab`): a JSON array of issues.

GitLab shows these in the merge request widget and diff when the job stores the file as
`artifacts: reports: codequality`. Paths are made relative to `$CI_PROJECT_DIR` when inside it.
Fingerprints depend on the rule, the file and the statement's text, not on its line, so a
finding keeps its identity when lines are added above it.
"""
from __future__ import annotations

import json

from ..model import Report
from .located import Located, fingerprints, located_findings, repository_path

SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}


def render_gitlab(report: Report) -> str:
    items = list(located_findings(report))
    issues = [issue(item, fingerprint) for item, fingerprint in zip(items, fingerprints(items))]
    return json.dumps(issues, ensure_ascii=False, indent=2) + "\n"


def issue(item: Located, fingerprint: str) -> dict:
    finding = item.finding
    description = f"{finding.rule} {finding.name}: {finding.message}"
    if finding.fix:
        description += f" Fix: {' '.join(finding.fix.split())}"
    begin = max(finding.line, 1)
    return {
        "type": "issue",
        "engine_name": "migrasafe",
        "check_name": finding.rule,
        "description": description,
        "categories": ["Bug Risk"],
        "severity": SEVERITIES.get(finding.severity, "major"),
        "fingerprint": fingerprint,
        "location": {
            # GitLab requires a path; a finding about the run as a whole points at the project.
            "path": repository_path(finding.path, "CI_PROJECT_DIR") or ".",
            "lines": {"begin": begin, "end": max(item.end_line, begin)},
        },
    }
