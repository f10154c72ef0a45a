"""Rule documentation, one YAML file per rule in the repository's top-level rules/ folder."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
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
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "rules"
    if checkout.is_dir():
        return sorted(checkout.glob("*.yaml"))
    # Installed: the same files ship as the migrasafe.ruledocs package data, which is a plain
    # folder beside this package unless migrasafe runs from a zip.
    installed = here.parents[1] / "ruledocs"
    if installed.is_dir():
        return sorted((f for f in installed.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    from importlib import resources  # slow to import, so only for the unusual layouts

    return sorted(
        (f for f in resources.files("migrasafe.ruledocs").iterdir() if f.name.endswith(".yaml")),
        key=lambda f: f.name,
    )


def _safe_loader():
    """libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster.

    The rule docs are loaded on a check's first finding, so their load is part of start-up.
    """
    import yaml

    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


@lru_cache(maxsize=1)
def _rules() -> dict[str, RuleDoc]:
    import yaml

    loader = _safe_loader()
    out = {}
    for path in _doc_files():
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
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
    import difflib

    names = [r.name for r in _rules().values()] + list(_rules())
    return difflib.get_close_matches(id_or_name, names, n=3)
