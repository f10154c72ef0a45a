"""Silencing findings from the migration itself, with a reason a reviewer can read.

    CREATE INDEX ix ON t (c);  -- migrasafe: ignore MS001 -- t has 40 rows
    -- migrasafe: ignore index-without-concurrently -- t has 40 rows
    CREATE INDEX ix ON t (c);
    -- migrasafe: ignore-file MS010,MS011 -- runs in the maintenance window

Alembic revisions are Python, so there the directive is a `#` comment on the `op.*` call's line
or the line above it:

    # migrasafe: ignore MS001 -- t has 40 rows
    op.create_index("ix", "t", ["c"])

A directive without a reason is not applied (MS093), and one that silenced nothing is reported
(MS092) so stale suppressions do not outlive the statements they were written for.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from .history.ids import is_data_rule, is_history_rule
from .model import AnalysedStatement, Finding, MigrationResult

UNUSED = ("MS092", "unused-suppression", "info")
NO_REASON = ("MS093", "suppression-without-reason", "warning")

DIRECTIVE = re.compile(
    r"""^\s*migrasafe:\s*(?P<scope>ignore-file|ignore)\b
        (?P<rules>[^-]*(?:-(?!-)[^-]*)*)     # rule ids or names, up to the next `--`
        (?:--(?P<reason>.*))?$""",
    re.X,
)
RULE_SEPARATOR = re.compile(r"[\s,]+")
IDENTIFIER_CHARS = re.compile(r"[A-Za-z0-9_$]")


@lru_cache(maxsize=1)
def dollar_tag() -> re.Pattern:
    """Compiled on first use: the non-ASCII ranges make it slow to compile, and most
    migrations have no dollar quotes."""
    return re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")


@dataclass
class Comment:
    line: int
    column: int
    text: str  # after the leading `--` (or `#` in Python)


@dataclass
class Directive:
    line: int
    column: int
    whole_file: bool
    rules: list[str]
    reason: str
    used: set[str] = field(default_factory=set)
    marker: str = "--"  # how a comment starts where the directive was written
    atlas: bool = False  # an `atlas:nolint`, read through sources/atlas/nolint.py

    def matches(self, finding: Finding) -> str | None:
        """The rule as written in the directive that covers `finding`, if any."""
        if self.atlas:
            from .sources.atlas.nolint import covers

            return next((r for r in self.rules if covers(r, finding.rule)), None)
        for rule in self.rules:
            if rule.upper() == finding.rule or rule.lower() == finding.name:
                return rule
        return None

    def spelled(self) -> str:
        scope = "ignore-file" if self.whole_file else "ignore"
        return f"{self.marker} migrasafe: {scope} {','.join(self.rules)}"


def apply_suppressions(result: MigrationResult, text: str) -> None:
    atlas = result.migration.format == "atlas" and "atlas:nolint" in text
    if "migrasafe:" not in text and not atlas:
        return  # no directive can be there; skips the comment scan of large files
    python = result.migration.format in ("alembic", "django")  # the text is the migration's Python source
    marker = "#" if python else "--"
    directives = []
    # The text may be a section of the file (dbmate's up section); statements carry file lines.
    offset = result.migration.meta.get("line_offset", 0)
    for comment in python_comments(text) if python else line_comments(text):
        match = DIRECTIVE.match(comment.text)
        if not match:
            continue
        rules = [r for r in RULE_SEPARATOR.split(match["rules"]) if r]
        if not rules:
            continue
        directives.append(
            Directive(
                line=comment.line + offset,
                column=comment.column,
                whole_file=match["scope"] == "ignore-file",
                rules=rules,
                reason=(match["reason"] or "").strip(),
                marker=marker,
            )
        )
    if atlas:
        directives.extend(_atlas_directives(text, offset, result.migration.meta.get("atlas_lint", ())))
    if not directives:
        return

    path = result.migration.path
    applied = [d for d in directives if d.reason]
    reports = [
        Finding(
            rule=NO_REASON[0], name=NO_REASON[1], severity=NO_REASON[2], path=path,
            line=d.line, column=d.column,
            message=f"`{d.spelled()}` has no reason, so it is not applied",
            fix=f"{d.spelled()} -- <why this is safe here>",
        )
        for d in directives
        if not d.reason
    ]

    file_wide = [d for d in applied if d.whole_file]
    by_statement = directives_by_statement(result.statements, [d for d in applied if not d.whole_file])

    hidden: list[dict] = []  # what the directives suppressed: counted in the reports, never silent
    for analysed in result.statements:
        local = by_statement.get(analysed.statement.index, [])
        if local or file_wide:
            analysed.findings = [f for f in analysed.findings if not suppressed(f, local, file_wide, hidden)]
    if file_wide or by_statement:
        result.findings = [
            f for f in result.findings
            if not suppressed(f, by_statement.get(f.statement_index, []), file_wide, hidden)
        ]
    if hidden:
        result.migration.meta["suppressed"] = hidden

    for d in applied:
        # History rules are judged after this, on every run (migrasafe/history/suppression.py says when
        # they silenced nothing); the data check's only with --data-from, so it never calls one stale.
        unused = [rule for rule in d.rules
                  if rule not in d.used and not is_history_rule(rule) and not is_data_rule(rule)]
        if not unused or d.atlas:  # Atlas's own lint reads them too: not stale when migrasafe is silent
            continue
        reports.append(
            Finding(
                rule=UNUSED[0], name=UNUSED[1], severity=UNUSED[2], path=path,
                line=d.line, column=d.column,
                message=(
                    f"`{d.spelled()}` suppresses nothing"
                    if len(unused) == len(d.rules)
                    else f"`{d.spelled()}`: {', '.join(unused)} suppresses nothing"
                ),
                fix="remove the directive" if len(unused) == len(d.rules) else f"remove {', '.join(unused)}",
            )
        )
    result.findings.extend(sorted(reports, key=lambda f: (f.line, f.column)))


def _atlas_directives(text: str, offset: int, configured) -> list[Directive]:
    from .sources.atlas.nolint import nolint_directives

    return [Directive(line=line + offset, column=1, whole_file=whole, rules=rules, reason=written, atlas=True)
            for line, whole, rules, written in nolint_directives(text, configured) if rules]


def suppressed(finding: Finding, local: list[Directive], file_wide: list[Directive],
               hidden: list[dict] | None = None) -> bool:
    for directive in (*local, *file_wide):
        rule = directive.matches(finding)
        if rule is not None:
            directive.used.add(rule)
            if hidden is not None:
                hidden.append({"rule": finding.rule, "severity": finding.severity, "line": finding.line,
                               "by": "atlas:nolint" if directive.atlas else "migrasafe"})
            return True
    return False


def directives_by_statement(
    statements: list[AnalysedStatement], directives: list[Directive]
) -> dict[int, list[Directive]]:
    """Statement index → directives on one of its lines or on a comment line just above it.

    A directive trailing a statement's code belongs to that statement only, not also to the
    statement that starts on the next line.
    """
    if not directives:
        return {}
    covering: dict[int, list[int]] = defaultdict(list)  # line → statements with code there
    starting: dict[int, list[int]] = defaultdict(list)  # line → statements starting there
    for analysed in statements:
        statement = analysed.statement
        starting[statement.line].append(statement.index)
        for line in range(statement.line, max(statement.end_line, statement.line) + 1):
            covering[line].append(statement.index)
    found: dict[int, list[Directive]] = defaultdict(list)
    for directive in directives:
        targets = covering.get(directive.line) or starting.get(directive.line + 1, [])
        for index in targets:
            found[index].append(directive)
    return found


def python_comments(text: str) -> list[Comment]:
    """Every `#` comment of Python source; none when the source does not tokenize."""
    import io
    import tokenize  # Alembic revisions only

    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                line, column = token.start
                comments.append(Comment(line, column + 1, token.string[1:]))
    except (tokenize.TokenError, SyntaxError):
        return comments
    return comments


def line_comments(text: str) -> list[Comment]:
    """Every `--` comment in `text`, skipping `--` inside strings, identifiers and /* */ comments."""
    comments: list[Comment] = []
    line = 1
    line_start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            line_start = i + 1
            i += 1
        elif ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            comments.append(Comment(line, i - line_start + 1, text[i + 2 : end].rstrip("\r")))
            i = end
        elif ch == "/" and text.startswith("/*", i):
            i, line, line_start = skip_block_comment(text, i, line, line_start)
        elif ch == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not IDENTIFIER_CHARS.match(text[i - 2]))
            i, line, line_start = skip_quoted(text, i, "'", escapes, line, line_start)
        elif ch == '"':
            i, line, line_start = skip_quoted(text, i, '"', False, line, line_start)
        elif ch == "$" and (i == 0 or not IDENTIFIER_CHARS.match(text[i - 1])):
            tag = dollar_tag().match(text, i)
            if tag is None:
                i += 1
                continue
            close = text.find(tag.group(0), tag.end())
            end = n if close == -1 else close + len(tag.group(0))
            line, line_start = advance_lines(text, i, end, line, line_start)
            i = end
        else:
            i += 1
    return comments


def skip_quoted(
    text: str, i: int, quote: str, backslash_escapes: bool, line: int, line_start: int
) -> tuple[int, int, int]:
    """Past the closing quote of the literal or identifier that opens at `i` (doubled quotes escape)."""
    n = len(text)
    j = i + 1
    while j < n:
        ch = text[j]
        if backslash_escapes and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            j += 1
            break
        j += 1
    j = min(j, n)
    line, line_start = advance_lines(text, i, j, line, line_start)
    return j, line, line_start


def skip_block_comment(text: str, i: int, line: int, line_start: int) -> tuple[int, int, int]:
    """Past the end of the /* */ comment at `i`; PostgreSQL lets them nest."""
    n = len(text)
    depth = 0
    j = i
    while j < n:
        if text.startswith("/*", j):
            depth += 1
            j += 2
        elif text.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                break
        else:
            j += 1
    line, line_start = advance_lines(text, i, j, line, line_start)
    return j, line, line_start


def advance_lines(text: str, start: int, end: int, line: int, line_start: int) -> tuple[int, int]:
    newlines = text.count("\n", start, end)
    if newlines:
        line += newlines
        line_start = text.rfind("\n", start, end) + 1
    return line, line_start
