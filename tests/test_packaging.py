"""The wheel ships every package and the rule docs."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "migrasafe").rglob("__init__.py")}
    assert found | {"migrasafe.ruledocs"} == listed


def test_every_rule_has_docs_and_a_detector_or_a_source():
    from migrasafe.rules import DETECTORS
    from migrasafe.rules.registry import all_rules

    documented = {r.id for r in all_rules()}
    assert set(DETECTORS) <= documented
    for rule in all_rules():
        assert rule.name and rule.severity in ("info", "warning", "error")
        assert rule.what and rule.why and rule.summary, rule.id
