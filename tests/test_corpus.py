"""Snapshot tests: every corpus case's findings and locks match its expected.yaml.

Set MIGRASAFE_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after an intended change, then review
the diff like any other code change.
"""
from __future__ import annotations

import os

import pytest
import yaml

from corpus_cases import all_cases, snapshot

CASES = all_cases()


def test_corpus_is_not_empty():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_matches_snapshot(case):
    actual = snapshot(case)
    if os.environ.get("MIGRASAFE_UPDATE_SNAPSHOTS"):
        data = dict(case.expected)
        data.update(actual)
        (case.folder / "expected.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        return
    assert actual["findings"] == case.expected.get("findings", [])
    flagged = {line.split(" ")[1] for line in actual["findings"]}
    assert not flagged & set(case.expected.get("passes", [])), "a passing case was flagged"
    assert actual["statements"] == case.expected.get("statements", [])


def test_every_rule_has_a_failing_and_a_passing_case():
    from migrasafe.rules import DETECTORS

    flagged = {line.split(" ")[1] for case in CASES for line in case.expected.get("findings", [])}
    passing = {rule for case in CASES for rule in case.expected.get("passes", [])}
    missing_fail = sorted(set(DETECTORS) - flagged)
    missing_pass = sorted(set(DETECTORS) - passing)
    assert not missing_fail, f"rules with no failing case: {missing_fail}"
    assert not missing_pass, f"rules with no passing case: {missing_pass}"
