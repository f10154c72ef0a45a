"""SARIF 2.1.0 (`--format sarif`), the format code-scanning services read.

One run; the driver lists every rule with its documentation, so a result's help (why it is
dangerous, what to do instead) travels with the file. Paths stay relative to the directory
migrasafe ran in, which `%SRCROOT%` names.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from ..model import Report
from .located import Located, fingerprints, located_findings

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SRCROOT = "%SRCROOT%"


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), ensure_ascii=False, indent=2) + "\n"


def sarif_log(report: Report) -> dict:
    from . import tool_version
    from ..rules.registry import all_rules

    rules = all_rules()
    index_of = {rule.id: i for i, rule in enumerate(rules)}
    items = list(located_findings(report))
    results = [
        sarif_result(item, fingerprint, index_of)
        for item, fingerprint in zip(items, fingerprints(items))
    ]
    version = tool_version()
    driver = {
        "name": "migrasafe",
        "version": version,
        "rules": [rule_descriptor(rule) for rule in rules],
    }
    if version[:1].isdigit() and "+" not in version:
        driver["semanticVersion"] = version
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "properties": {"pgVersion": report.pg_version},
                "results": results,
            }
        ],
    }


def rule_descriptor(rule) -> dict:
    help_text = "\n\n".join(part for part in (rule.what, rule.why) if part)
    markdown = [f"**{rule.summary}**", "", rule.what, "", "### Why", "", rule.why]
    if rule.example:
        markdown += ["", "### Example", "", "```sql", rule.example, "```"]
    if rule.use_instead:
        markdown += ["", "### Use instead", "", "```sql", rule.use_instead, "```"]
        help_text += "\n\nUse instead:\n" + rule.use_instead
    descriptor = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what or rule.summary},
        "help": {"text": help_text or rule.summary, "markdown": "\n".join(markdown).strip()},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["postgresql", "migration", rule_tag(rule.id)]},
    }
    if rule.versions:
        descriptor["properties"]["versions"] = rule.versions
    return descriptor


# Rule families by the tens digit of their ids (MS01x rewrite tables, MS04x break running code).
FAMILY_TAGS = {"0": "locking", "1": "rewrite", "2": "locking", "3": "locking", "4": "compatibility", "9": "input"}


def rule_tag(rule_id: str) -> str:
    return FAMILY_TAGS.get(rule_id[3:4], "locking")


def sarif_result(item: Located, fingerprint: str, index_of: dict[str, int]) -> dict:
    finding = item.finding
    text = finding.message
    if finding.lock:
        text += f"\nlock: {finding.lock}"
    if finding.fix:
        text += f"\nfix: {finding.fix}"
    result: dict = {"ruleId": finding.rule}
    if finding.rule in index_of:
        result["ruleIndex"] = index_of[finding.rule]
    result["level"] = LEVELS.get(finding.severity, "warning")
    result["message"] = {"text": text}
    location = sarif_location(item)
    if location is not None:
        result["locations"] = [location]
    result["partialFingerprints"] = {"migrasafeFinding/v1": fingerprint}
    properties = {"severity": finding.severity}
    if finding.lock:
        properties["lock"] = finding.lock
    if finding.fix:
        properties["fix"] = finding.fix
    result["properties"] = properties
    return result


def sarif_location(item: Located) -> dict | None:
    finding = item.finding
    if not finding.path:
        return None
    physical: dict = {"artifactLocation": artifact_location(finding.path)}
    if finding.line > 0:
        physical["region"] = {
            "startLine": finding.line,
            "startColumn": max(finding.column, 1),
            "endLine": item.end_line,
        }
    return {"physicalLocation": physical}


def artifact_location(path: str) -> dict:
    posix = path.replace(os.sep, "/")
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(posix), "uriBaseId": SRCROOT}
