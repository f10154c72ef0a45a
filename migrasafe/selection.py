"""Which rules a run reports, at which severity: --select, --ignore and severity overrides."""
from __future__ import annotations

import dataclasses

from .config import Config
from .model import Finding
from .rules.registry import find_rule


class RuleSelection:
    def __init__(self, config: Config):
        self.select = {_rule_id(r) for r in config.select}
        self.ignore = {_rule_id(r) for r in config.ignore}
        self.severity = {_rule_id(k): v for k, v in config.severity.items()}
        self._by_node = None  # built on first use: a run that loads every result never needs it
        self._for_type: dict[type, list] = {}
        self._alter_table = None  # pglast's AlterTableStmt, once the detectors are built
        self._for_subcommands: dict[tuple, list] = {}

    def detectors(self, node) -> list:
        """The enabled detectors that can fire on this statement."""
        cls = type(node)
        found = self._for_type.get(cls)
        if found is None:
            if self._by_node is None:
                from pglast import ast

                from .rules.base import detectors_for

                self._by_node = detectors_for(self.enabled)
                self._alter_table = ast.AlterTableStmt
            table = self._by_node
            found = self._for_type[cls] = table.get(cls, []) + table.get(None, [])
        if cls is self._alter_table:
            # Only the rules that look at one of its subcommands' types.
            key = tuple([getattr(cmd, "subtype", None) for cmd in node.cmds or ()])
            narrowed = self._for_subcommands.get(key)
            if narrowed is None:
                from .rules.base import for_subcommands

                narrowed = self._for_subcommands[key] = for_subcommands(found, set(key))
            return narrowed
        return found

    def enabled(self, rule_id: str) -> bool:
        if rule_id in _ALWAYS:
            return True
        if rule_id in self.ignore:
            return False
        return not self.select or rule_id in self.select

    def severity_of(self, rule_id: str, default: str) -> str:
        return self.severity.get(rule_id, default)

    def admit(self, findings: list[Finding]) -> list[Finding]:
        """Findings made outside the rules (by the sources: MS006, MS096, ...), with the same
        --select / --ignore and severity overrides the rules' findings get."""
        out = []
        for finding in findings:
            if not self.enabled(finding.rule):
                continue
            severity = self.severity_of(finding.rule, finding.severity)
            if severity != finding.severity:
                finding = dataclasses.replace(finding, severity=severity)
            out.append(finding)
        return out


# Input problems are reported whatever is selected: they mean the check itself was incomplete.
_ALWAYS = {"MS000", "MS088", "MS099"}


def _rule_id(value: str) -> str:
    doc = find_rule(value)
    return doc.id if doc else value.upper()


def make_finding(rule_id: str, message: str, *, path: str, line: int, column: int = 1, fix: str = "",
                 lock: str = "", statement_index: int | None = None, span=None,
                 selection: RuleSelection | None = None, severity: str | None = None) -> Finding | None:
    doc = find_rule(rule_id)
    if selection is not None and not selection.enabled(rule_id):
        return None
    severity = severity or (doc.severity if doc else "error")
    if selection is not None:
        severity = selection.severity_of(rule_id, severity)
    return Finding(rule=rule_id, name=doc.name if doc else rule_id.lower(), severity=severity, message=message,
                   path=path, line=line, column=column, fix=fix, lock=lock,
                   statement_index=statement_index, span=span)
