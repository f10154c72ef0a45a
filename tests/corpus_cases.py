"""The labelled cases in corpus/: each folder holds migrations/ and expected.yaml.

expected.yaml:
    description: what the case shows
    pg_version: 16            # optional: the version the snapshot is taken at
    findings:                 # every finding of the case, "file:line RULE"
      - 002_index.sql:1 MS001
    statements:               # the last migration's statements, with the model's locks
      - line: 1
        locks: {public.orders: ShareLock}
        rewrites: []
    server_rejects: [3]       # lines of the last migration PostgreSQL refuses on the seeded rows
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@dataclass
class Case:
    name: str
    folder: Path
    expected: dict

    @property
    def migrations(self) -> Path:
        return self.folder / "migrations"

    @property
    def pg_version(self) -> int:
        return int(self.expected.get("pg_version", 16))


def all_cases() -> list[Case]:
    cases = []
    for expected in sorted(CORPUS.glob("*/*/expected.yaml")) + sorted(CORPUS.glob("*/expected.yaml")):
        folder = expected.parent
        data = yaml.safe_load(expected.read_text(encoding="utf-8")) or {}
        cases.append(Case(str(folder.relative_to(CORPUS)), folder, data))
    return cases


def run_case(case: Case, pg_version: int | None = None, timezone_utc: bool = False):
    from migrasafe.check import run
    from migrasafe.config import Config

    config = Config(pg_version=pg_version or case.pg_version, timezone_utc=timezone_utc)
    return run([str(case.migrations)], config)


def snapshot(case: Case) -> dict:
    """What the tool says about the case now, in expected.yaml's shape."""
    report = run_case(case, timezone_utc=bool(case.expected.get("timezone_utc")))
    findings = []
    for result in report.results:
        for f in result.all_findings():
            findings.append(f"{Path(f.path).name}:{f.line} {f.rule}")
    last = report.results[-1]
    statements = []
    for a in last.statements:
        statements.append({
            "line": a.statement.line,
            "locks": {l.relation: l.mode for l in a.impact.locks},
            "rewrites": list(a.impact.rewrites),
        })
    return {"findings": sorted(findings, key=_finding_key), "statements": statements}


def _finding_key(text: str):
    where, rule = text.split(" ")
    name, line = where.rsplit(":", 1)
    return name, int(line), rule
