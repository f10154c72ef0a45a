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


@dataclass(frozen=True)
class RuleHeader:
    """What a check needs of a rule: loading the whole documentation costs a YAML parser."""

    id: str
    name: str
    severity: str


HEADER_KEYS = ("id", "name", "severity")
# A value starting with one of these is not a plain one-line scalar: leave it to the YAML parser.
_NOT_PLAIN = set("'\"|>&*!{[#%@`")


def read_header(text: str) -> dict[str, str] | None:
    """id, name and severity from their top-level `key: value` lines, or None when one of them
    is missing or written in a form only a YAML parser reads right (quoted, block, comment)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key in HEADER_KEYS and key not in found:
            value = value.strip()
            if not value or value[0] in _NOT_PLAIN or " #" in value:
                return None
            found[key] = value
            if len(found) == len(HEADER_KEYS):
                return found
    return None


@lru_cache(maxsize=1)
def _headers() -> dict[str, RuleHeader]:
    out = {}
    for path in _doc_files():
        values = read_header(path.read_text(encoding="utf-8"))
        if values is None:
            return {doc.id: RuleHeader(doc.id, doc.name, doc.severity) for doc in _rules().values()}
        out[values["id"]] = RuleHeader(**values)
    return out


def find_rule(id_or_name: str) -> RuleHeader | None:
    """The rule with this id or name, as far as a check needs it."""
    return _lookup(_headers(), id_or_name)


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
    return _lookup(_rules(), id_or_name)


def _lookup(rules: dict, id_or_name: str):
    key = id_or_name.strip()
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
