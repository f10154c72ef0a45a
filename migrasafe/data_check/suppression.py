"""`-- migrasafe: ignore MS060 -- reason` over the data check's findings.

The migration's own directives were applied when it was analysed, before the data check ran;
they are read again here, as suppress.py reads them, and applied to the findings the data
check added to each statement.
"""
from __future__ import annotations

from ..model import MigrationResult
from ..suppress import DIRECTIVE, RULE_SEPARATOR, Directive, directives_by_statement, line_comments, python_comments
from ..suppress import suppressed as covered


def suppress_data_findings(result: MigrationResult, added: dict[int, int]) -> None:
    """`added`: statement index → how many findings at the end of its list the data check added."""
    text = result.migration.text
    if not added or "migrasafe:" not in text:
        return
    directives = read_directives(result)
    if not directives:
        return
    file_wide = [d for d in directives if d.whole_file]
    local = directives_by_statement(result.statements, [d for d in directives if not d.whole_file])
    hidden: list[dict] = []
    for analysed in result.statements:
        count = added.get(analysed.statement.index, 0)
        if not count:
            continue
        kept, new = analysed.findings[:-count], analysed.findings[-count:]
        here = local.get(analysed.statement.index, [])
        analysed.findings = kept + [f for f in new if not covered(f, here, file_wide, hidden)]
    if hidden:
        result.migration.meta.setdefault("suppressed", []).extend(hidden)


def read_directives(result: MigrationResult) -> list[Directive]:
    python = result.migration.format in ("alembic", "django")
    offset = result.migration.meta.get("line_offset", 0)
    found = []
    for comment in python_comments(result.migration.text) if python else line_comments(result.migration.text):
        match = DIRECTIVE.match(comment.text)
        rules = [r for r in RULE_SEPARATOR.split(match["rules"]) if r] if match else []
        reason = (match["reason"] or "").strip() if match else ""
        if rules and reason:  # one without a reason is not applied (suppress.py says so: MS093)
            found.append(Directive(line=comment.line + offset, column=comment.column,
                                   whole_file=match["scope"] == "ignore-file", rules=rules, reason=reason))
    return found
