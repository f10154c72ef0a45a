"""JUnit XML (`--format junit`), for CI systems that show test reports.

One test suite per migration and one test case per finding. A finding at or above `fail_on`
is a <failure>; an input that could not be read or parsed is an <error>; findings below the
threshold are passing cases whose output carries the message. A migration without findings
gets one passing case, so every checked migration shows up in the report.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..model import Finding, Report, severity_rank
from ..verdict import reported
from .located import Located, located_findings, located_in

INPUT_ERRORS = {"MS000", "MS099"}
# XML 1.0 cannot hold most control characters, which a migration file may contain.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="migrasafe")
    run_level = [item for item in located_findings(report) if item.result is None]
    if run_level:
        add_suite(root, "migrasafe", "", run_level, report.fail_on)
    for result in reported(report):
        add_suite(root, result.migration.path, result.migration.path, list(located_in(result)), report.fail_on)
    totals = {key: sum(int(suite.get(key)) for suite in root) for key in ("tests", "failures", "errors")}
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def add_suite(root: ET.Element, name: str, path: str, items: list[Located], fail_on: str) -> None:
    suite = ET.SubElement(root, "testsuite", name=clean(name))
    failures = errors = 0
    for item in items:
        case = ET.SubElement(suite, "testcase", name=clean(case_name(item.finding)), classname=clean(name))
        if item.finding.path:
            case.set("file", clean(item.finding.path))
        if item.finding.line > 0:
            case.set("line", str(item.finding.line))
        body = clean(details(item.finding))
        if item.finding.rule in INPUT_ERRORS:
            errors += 1
            ET.SubElement(case, "error", message=clean(item.finding.message), type=item.finding.rule).text = body
        elif fails(item.finding, fail_on):
            failures += 1
            ET.SubElement(case, "failure", message=clean(item.finding.message), type=item.finding.rule).text = body
        else:
            ET.SubElement(case, "system-out").text = body
    if not items:
        case = ET.SubElement(suite, "testcase", name="no findings", classname=clean(name))
        if path:
            case.set("file", clean(path))
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")


def case_name(finding: Finding) -> str:
    where = f" at line {finding.line}" if finding.line > 0 else ""
    return f"{finding.rule} {finding.name}{where}"


def details(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line}:{finding.column}" if finding.path and finding.line > 0 else finding.path
    lines = [f"{where}: {finding.rule} {finding.name} [{finding.severity}]" if where else
             f"{finding.rule} {finding.name} [{finding.severity}]", finding.message]
    if finding.lock:
        lines.append(f"lock: {finding.lock}")
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    return "\n".join(lines)


def fails(finding: Finding, fail_on: str) -> bool:
    return fail_on != "never" and severity_rank(finding.severity) >= severity_rank(fail_on)


def clean(text: str) -> str:
    return NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)
