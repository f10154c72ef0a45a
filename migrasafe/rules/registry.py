"""Rule documentation, one YAML file per rule in the repository's top-level rules/ folder."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

DOC_KEYS = ("id", "name", "severity", "summary", "what", "why", "example", "use_instead", "versions")


@dataclass(frozen=True)
class RuleDoc:
    id: str
    name: str
    severity: str
    summary: str
    what: str
    why: str
    example: str
    use_instead: str
    versions: str = ""


def _doc_files():
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if checkout.is_dir():
        return sorted(checkout.glob("*.yaml"))
    # Installed: the same files ship as the migrasafe.ruledocs package data.
    return sorted(
        (f for f in resources.files("migrasafe.ruledocs").iterdir() if f.name.endswith(".yaml")),
        key=lambda f: f.name,
    )


@lru_cache(maxsize=1)
def _rules() -> dict[str, RuleDoc]:
    import yaml

    out = {}
    for path in _doc_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        values = {k: str(data.get(k) or "").strip() for k in DOC_KEYS}
        out[values["id"]] = RuleDoc(**values)
    return dict(sorted(out.items()))


def all_rules() -> list[RuleDoc]:
    return list(_rules().values())


def get_rule(id_or_name: str) -> RuleDoc | None:
    key = id_or_name.strip()
    rules = _rules()
    if key.upper() in rules:
        return rules[key.upper()]
    for rule in rules.values():
        if rule.name == key.lower():
            return rule
    return None


def close_matches(id_or_name: str) -> list[str]:
    names = [r.name for r in _rules().values()] + list(_rules())
    return difflib.get_close_matches(id_or_name, names, n=3)
