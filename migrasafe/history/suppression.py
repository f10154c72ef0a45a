"""Suppression directives for the history findings, read as suppress.py reads them.

`-- migrasafe: ignore-file MS051 -- reason` anywhere in the file, or `ignore MS051 -- reason` on
the finding's line or the line above it (`#` in Alembic and Django migrations). These findings
are made after each migration's own suppressions were applied (and cached), so this reads the
file again; a directive naming a history rule that silenced nothing is reported here (MS092),
never by suppress.py, and only for rules that were judged in this run.
"""
from __future__ import annotations

from pathlib import Path

from ..model import Finding, MigrationResult
from ..selection import RuleSelection, make_finding
from ..suppress import DIRECTIVE, RULE_SEPARATOR, UNUSED, Directive, line_comments, python_comments
from .ids import SINCE_RULES, is_history_rule


class Directives:
    """The directives of each file, read once."""

    def __init__(self, results: list[MigrationResult] = ()):
        self._by_file: dict[Path, list[Directive]] = {}
        # Files that held no directive when their migration was read (sources/build.py).
        for result in results:
            meta = result.migration.meta
            if meta.get("no_directives") and meta.get("file"):
                self._by_file[Path(meta["file"])] = []

    def of(self, file: Path) -> list[Directive]:
        if file not in self._by_file:
            self._by_file[file] = _read(file)
        return self._by_file[file]

    def suppresses(self, file: Path, finding: Finding, result: MigrationResult | None) -> bool:
        for directive in self.of(file):
            if not directive.reason:
                continue  # suppress.py reports it (MS093) and does not apply it
            if not directive.whole_file and directive.line not in (finding.line, finding.line - 1):
                continue
            rule = directive.matches(finding)
            if rule is not None:
                directive.used.add(rule)
                if result is not None:
                    result.migration.meta.setdefault("suppressed", []).append(
                        {"rule": finding.rule, "severity": finding.severity, "line": finding.line, "by": "migrasafe"})
                return True
        return False

    def unused(self, results: list[MigrationResult], since: bool, selection: RuleSelection) -> None:
        """MS092 on the reported migrations for each directive's history rules that silenced nothing
        (of the rules this run judged: selected, and needing no --since or given one)."""
        seen: set[Path] = set()
        for result in results:
            file = Path(result.migration.meta.get("file") or "")
            if result.migration.meta.get("context") or file in seen or not file.name:
                continue
            seen.add(file)
            for directive in self.of(file):
                if not directive.reason:
                    continue
                stale = [r for r in directive.rules if r not in directive.used and is_history_rule(r)
                         and (since or _rule_id(r) not in SINCE_RULES) and selection.enabled(_rule_id(r))]
                finding = stale and make_finding(
                    UNUSED[0], f"`{directive.spelled()}`: {', '.join(stale)} suppresses nothing",
                    path=result.migration.path, line=directive.line, column=directive.column,
                    fix=f"remove {', '.join(stale)}", selection=selection)
                if finding:
                    result.findings.append(finding)


def _rule_id(word: str) -> str:
    from ..rules.registry import find_rule

    rule = find_rule(word)
    return rule.id if rule else word


def _read(file: Path) -> list[Directive]:
    try:
        # A FIFO or a device named like a migration was reported when the history was read;
        # opening it here could wait forever for a writer.
        if not file.is_file() or not _mentions(file, b"migrasafe:"):
            return []
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if "migrasafe:" not in text:
        return []
    python = file.suffix == ".py"
    out = []
    for comment in python_comments(text) if python else line_comments(text):
        match = DIRECTIVE.match(comment.text)
        if not match:
            continue
        rules = [r for r in RULE_SEPARATOR.split(match["rules"]) if r]
        if any(is_history_rule(r) for r in rules):
            out.append(Directive(line=comment.line, column=comment.column, whole_file=match["scope"] == "ignore-file",
                                 rules=rules, reason=(match["reason"] or "").strip(), marker="#" if python else "--"))
    return out


def _mentions(file: Path, marker: bytes, block: int = 1 << 16) -> bool:
    """Whether the file holds `marker`, read a block at a time: most files have no directive,
    and a large one is then never held whole (as bytes and again as text) beside the report."""
    with file.open("rb") as stream:
        keep = len(marker) - 1  # a marker cut by a block's end begins in the last bytes of it
        tail = b""
        while chunk := stream.read(block):
            if marker in tail + chunk[:keep] or marker in chunk:
                return True
            tail = (tail + chunk[-keep:])[-keep:]
    return False
