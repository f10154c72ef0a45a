"""The default report: one block per finding, ruff-style, then a one-line summary.

    migrations/V3__idx.sql:4:1: MS001 index-without-concurrently [error]
      CREATE INDEX orders_customer_idx ON orders (customer_id)
      ^^^^^^^^^^^^
      lock: ShareLock on public.orders until commit — blocks writes; scans the table
      Building the index blocks writes to public.orders until it is done.
      fix: CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id)
"""
from __future__ import annotations

from bisect import bisect_right

from ..model import Finding, Report, Statement
from ..verdict import reported, verdict

# A statement is shown up to this many lines; a migration's INSERT can run to thousands.
SNIPPET_LINES = 3
# Lines longer than this are cut around the underlined part (minified or generated SQL).
SNIPPET_WIDTH = 160
INDENT = "  "
FIX_PREFIX = "fix: "
# A migration with more findings of one rule than GROUP_OVER (a hundred renamed columns, twenty
# dropped tables) shows the first GROUP_SHOWN of them and a count of the rest; every one is
# still counted in the summary and listed by the JSON and SARIF reports.
GROUP_OVER = 5
GROUP_SHOWN = 3

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
SEVERITY_COLOR = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
GREEN = "\x1b[32m"


class Style:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color and text else text


class StatementLines:
    """Where each line of a statement starts, worked out once however many findings point at it."""

    def __init__(self, sql: str):
        self.sql = sql
        self.starts = [0]
        at = sql.find("\n")
        while at != -1:
            self.starts.append(at + 1)
            at = sql.find("\n", at + 1)

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, number: int) -> str:
        start = self.starts[number]
        end = self.starts[number + 1] - 1 if number + 1 < len(self.starts) else len(self.sql)
        return self.sql[start:end].rstrip("\r").replace("\t", " ")

    def locate(self, offset: int) -> tuple[int, int]:
        number = bisect_right(self.starts, offset) - 1
        return number, offset - self.starts[number]


def render_text(report: Report, color: bool = False) -> str:
    style = Style(color)
    out: list[str] = []
    for finding in sorted(report.findings, key=position):
        out.extend(finding_block(finding, None, None, style))
    migrations = statements = 0
    for result in reported(report):
        migrations += 1
        statements += len(result.statements)
        by_index = {a.statement.index: a.statement for a in result.statements}
        located: list[tuple[Finding, Statement | None]] = [
            (f, by_index.get(f.statement_index) if f.statement_index is not None else None)
            for f in result.findings
        ]
        for analysed in result.statements:
            located.extend((f, analysed.statement) for f in analysed.findings)
        located.sort(key=lambda pair: position(pair[0]))
        lines_of: dict[int, StatementLines] = {}
        revision = result.migration.meta.get("revision", "")  # Alembic: the file name may not say it
        per_rule: dict[str, int] = {}
        for finding, _ in located:
            per_rule[finding.rule] = per_rule.get(finding.rule, 0) + 1
        shown: dict[str, int] = {}
        for finding, statement in located:
            count = per_rule[finding.rule]
            seen = shown[finding.rule] = shown.get(finding.rule, 0) + 1
            if count > GROUP_OVER and seen > GROUP_SHOWN:
                continue  # grouped: the line after the last one shown counts it
            lines = None
            if statement is not None:
                lines = lines_of.get(statement.index)
                if lines is None:
                    lines = lines_of[statement.index] = StatementLines(statement.sql)
            out.extend(finding_block(finding, statement, lines, style, revision))
            if count > GROUP_OVER and seen == GROUP_SHOWN:
                out.extend(more_like_it(finding, count - GROUP_SHOWN, style))
    if report.replay is not None:
        from ..replay.summary import replay_lines

        out.extend(replay_lines(report))
    from .reading import reading_lines

    out.extend(reading_lines(report))
    out.append(summary(report, migrations, statements, style))
    return "\n".join(out) + "\n"


def more_like_it(finding: Finding, more: int, style: Style) -> list[str]:
    where = finding.path or "this migration"
    return [f"{style(DIM, '…')} and {more} more {finding.rule} {finding.name} finding{'s' if more > 1 else ''} "
            f"like {'it' if GROUP_SHOWN == 1 else 'these'} in {where} (--format json lists every one)", ""]


def position(finding: Finding) -> tuple[int, int]:
    return finding.line, finding.column


def finding_block(
    finding: Finding, statement: Statement | None, lines: StatementLines | None, style: Style,
    revision: str = "",
) -> list[str]:
    severity_color = SEVERITY_COLOR.get(finding.severity, BOLD)
    where = finding.path
    if where and finding.line > 0:
        where = f"{where}:{finding.line}:{finding.column}"
    head = f"{style(BOLD, where)}: " if where else ""
    block = [
        f"{head}{style(severity_color, finding.rule)} {finding.name} "
        f"[{style(severity_color, finding.severity)}]" + (f" in revision {revision}" if revision else "")
    ]
    if lines is not None and statement is not None and statement.sql.strip():
        block.extend(snippet(lines, finding.span, style, severity_color))
    if finding.lock:
        block.append(f"{INDENT}{style(DIM, 'lock:')} {finding.lock}")
    block.extend(INDENT + line for line in finding.message.splitlines() or [""])
    if finding.fix:
        first, *rest = finding.fix.splitlines()
        block.append(f"{INDENT}{style(GREEN, FIX_PREFIX)}{first}")
        pad = INDENT + " " * len(FIX_PREFIX)
        block.extend(pad + line if line.strip() else "" for line in rest)
    block.append("")
    return block


def snippet(
    lines: StatementLines, span: tuple[int, int] | None, style: Style, caret_color: str
) -> list[str]:
    """The statement's first lines (or the lines around the span) with the span underlined."""
    size = len(lines.sql)
    if span is not None and 0 <= span[0] < size:
        start = span[0]
        end = min(max(span[1], start + 1), size)  # an empty span still gets one caret
        first, first_col = lines.locate(start)
        last, last_col = lines.locate(end - 1)
        last_col += 1
    else:
        first = last = 0
        text = lines.line(0)
        first_col, last_col = len(text) - len(text.lstrip()), len(text.rstrip())
    top = 0 if first < SNIPPET_LINES else first
    bottom = min(len(lines), top + SNIPPET_LINES)
    out = [INDENT + "…"] if top > 0 else []
    for number in range(top, bottom):
        text = lines.line(number)
        if first <= number <= last:
            text_stripped = text.rstrip()
            left = first_col if number == first else len(text) - len(text.lstrip())
            right = last_col if number == last else len(text_stripped)
            text, left, right = clip(text, left, right)
            out.append(INDENT + text)
            if right > left:
                out.append(INDENT + " " * left + style(caret_color, "^" * (right - left)))
        else:
            text, _, _ = clip(text, 0, 0)
            out.append(INDENT + text)
    if bottom < len(lines):
        out.append(INDENT + "…")
    return out


def clip(text: str, left: int, right: int) -> tuple[str, int, int]:
    """Cut an over-long line to a window that keeps the underlined part in view."""
    if len(text) <= SNIPPET_WIDTH:
        return text, left, right
    start = max(0, min(left - 20, len(text) - SNIPPET_WIDTH))
    end = start + SNIPPET_WIDTH
    shown = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    left = max(left + shift, len(prefix))
    right = min(right + shift, len(prefix) + len(shown))
    return prefix + shown + suffix, left, right


def summary(report: Report, migrations: int, statements: int, style: Style) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in report.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    for result in reported(report):
        for finding in result.all_findings():
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
    outcome = verdict(report)
    outcome_color = {"fail": SEVERITY_COLOR["error"], "warn": SEVERITY_COLOR["warning"]}.get(
        outcome, GREEN
    )
    return (
        f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
        f"{plural(counts['info'], 'info')} in {plural(migrations, 'migration')} "
        f"({plural(statements, 'statement')}){suppressions(report)} — verdict: {style(outcome_color, outcome)}"
    )


def suppressions(report: Report) -> str:
    """", 12 suppressed (9 by atlas:nolint, 3 by migrasafe: ignore)": never silent."""
    by: dict[str, int] = {}
    for result in reported(report):
        for hidden in result.migration.meta.get("suppressed", ()):
            by[hidden["by"]] = by.get(hidden["by"], 0) + 1
    if not by:
        return ""
    names = {"atlas:nolint": "atlas:nolint", "migrasafe": "migrasafe: ignore"}
    parts = ", ".join(f"{count} by {names[who]}" for who, count in sorted(by.items()))
    return f", {sum(by.values())} suppressed ({parts})"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
