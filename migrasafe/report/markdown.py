"""A pull-request comment (`--format markdown`): verdict, migrations with their locks, findings
with fixes, and what a replay on a real server observed when one ran.

The first line is a hidden marker, so a bot can find its earlier comment and update it instead
of adding another.
"""
from __future__ import annotations

from ..locks.modes import MODES, describe_blocking
from ..model import AnalysedStatement, Finding, MigrationResult, Report
from ..verdict import reported, verdict
from .gantt import gantt_chart
from .located import located_findings, located_in

MARKER = "<!-- migrasafe -->"
VERDICT_MARK = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
# GitHub refuses comments over 65,536 characters; findings past this budget are counted, not shown.
BUDGET = 60_000


def render_markdown(report: Report) -> str:
    results = list(reported(report))
    outcome = verdict(report)
    out = [MARKER, f"## migrasafe: {VERDICT_MARK[outcome]} {outcome}", "", headline(report, results), ""]
    if results:
        out += migration_table(results) + [""]
    sections = findings_sections(report, results)
    replay = replay_section(results)
    used = sum(len(line) + 1 for line in out + replay)
    shown = 0
    for section in sections:
        size = sum(len(line) + 1 for line in section)
        if used + size > BUDGET:
            break
        out += section
        used += size
        shown += 1
    if shown < len(sections):
        out += [f"_{len(sections) - shown} more findings are not shown here; the job log lists them all._", ""]
    out += replay
    return "\n".join(out).rstrip("\n") + "\n"


def headline(report: Report, results: list[MigrationResult]) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for item in located_findings(report):
        counts[item.finding.severity] = counts.get(item.finding.severity, 0) + 1
    statements = sum(len(r.statements) for r in results)
    if not results and not report.findings:
        return f"No migrations to check (PostgreSQL {report.pg_version})."
    return (
        f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
        f"{plural(counts['info'], 'info')} in {plural(len(results), 'migration')} "
        f"({plural(statements, 'statement')}), checked against PostgreSQL {report.pg_version}."
    )


def migration_table(results: list[MigrationResult]) -> list[str]:
    rows = [
        "| migration | statements | locks on live tables | findings |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        rows.append(
            f"| {code(result.migration.path)} | {len(result.statements)} | {cell(lock_summary(result))} "
            f"| {cell(finding_counts(result.all_findings()))} |"
        )
    return rows


def lock_summary(result: MigrationResult) -> str:
    """The strongest lock each live relation gets in the migration, strongest first."""
    strongest: dict[str, str] = {}
    rewritten: set[str] = set()
    for analysed in result.statements:
        for lock in analysed.impact.locks:
            if lock.relation not in analysed.live:
                continue
            current = strongest.get(lock.relation)
            if current is None or MODES.index(lock.mode) > MODES.index(current):
                strongest[lock.relation] = lock.mode
        rewritten.update(r for r in analysed.impact.rewrites if r in analysed.live)
    if not strongest:
        return "none"
    ordered = sorted(strongest.items(), key=lambda pair: (-MODES.index(pair[1]), pair[0]))
    parts = []
    for relation, mode in ordered:
        note = describe_blocking(mode)
        if relation in rewritten:
            note += ", rewritten"
        parts.append(f"{mode} on {relation} ({note})")
    return "; ".join(parts)


def finding_counts(findings: list[Finding]) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    parts = [plural(counts[s], s) for s in ("error", "warning", "info") if counts[s]]
    return ", ".join(parts) or "none"


def findings_sections(report: Report, results: list[MigrationResult]) -> list[list[str]]:
    """One block of lines per finding, each migration's heading carried by its first finding."""
    sections: list[list[str]] = []
    grouped = [("this run", [i for i in located_findings(report) if i.result is None])]
    for result in results:
        grouped.append((code(result.migration.path), list(located_in(result))))
    first = True
    for heading, items in grouped:
        for n, item in enumerate(items):
            block = []
            if first:
                block += ["### Findings", ""]
                first = False
            if n == 0:
                block += [f"#### {heading}", ""]
            block += finding_block(item.finding)
            sections.append(block)
    return sections


def finding_block(finding: Finding) -> list[str]:
    where = f" · line {finding.line}" if finding.line > 0 else ""
    block = [f"**{finding.rule} {finding.name}** · {finding.severity}{where}", ""]
    block += [line.rstrip() for line in finding.message.splitlines()]
    if finding.lock:
        block += ["", f"Lock: {finding.lock}"]
    if finding.fix:
        block += ["", "Fix:", "", *fenced(finding.fix, "sql")]
    block.append("")
    return block


def replay_section(results: list[MigrationResult]) -> list[str]:
    rows = []
    for result in results:
        for analysed in result.statements:
            if analysed.observed:
                rows.append(replay_row(result, analysed))
    if not rows:
        return []
    return [
        "### Observed on a real server",
        "",
        *gantt_chart(results),
        "| migration | line | statement | duration | at production size | locks taken | lock held "
        "| blocked others | rewrites |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def replay_row(result: MigrationResult, analysed: AnalysedStatement) -> str:
    observed = analysed.observed or {}
    statement = " ".join(analysed.statement.sql.split())
    if len(statement) > 60:
        statement = statement[:59] + "…"
    duration = milliseconds(observed.get("duration_ms"))
    if observed.get("error"):
        duration = f"failed: {observed['error']}"
    cells = [
        code(result.migration.path),
        str(analysed.statement.line),
        code(statement),
        duration,
        predicted(observed.get("predicted_ms")),
        observed_locks(observed.get("locks")),
        per_relation(observed.get("lock_held_ms")),
        per_relation(observed.get("blocked_ms")),
        ", ".join(str(r) for r in observed.get("rewrites") or ()) or "none",
    ]
    return "| " + " | ".join(cell(c) if i > 2 else c for i, c in enumerate(cells)) + " |"


def observed_locks(locks) -> str:
    if not locks:
        return "none"
    parts = []
    for lock in locks:
        if isinstance(lock, dict):
            parts.append(f"{lock.get('mode', '?')} on {lock.get('relation', '?')}")
        else:
            parts.append(str(lock))
    return "; ".join(parts)


def predicted(value) -> str:
    """{"rows": N, "ms": M}: the duration extrapolated to the production row count."""
    if not isinstance(value, dict) or "ms" not in value:
        return "–"
    rows = value.get("rows")
    at = f" at {rows:,} rows" if isinstance(rows, int) and not isinstance(rows, bool) else ""
    return milliseconds(value["ms"]) + at


def per_relation(values) -> str:
    """relation → milliseconds, or → {"reads": {"max": ms, ...}, "writes": ...}; zeros left out."""
    if not values:
        return "–"
    if not isinstance(values, dict):
        return milliseconds(values)
    parts = []
    for relation, figures in values.items():
        shown = figure(figures)
        if shown:
            parts.append(f"{relation} {shown}")
    return "; ".join(parts) or "none"


def figure(value) -> str:
    if isinstance(value, dict):
        if "max" in value:
            return figure(value["max"])
        return ", ".join(f"{key} {shown}" for key, shown in ((k, figure(v)) for k, v in value.items()) if shown)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return ""
    return milliseconds(value)


def milliseconds(value) -> str:
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return str(value)


def code(text: str) -> str:
    """Inline code that survives backticks and pipes in the text."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def fenced(text: str, language: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}{language}", *text.splitlines(), fence]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
