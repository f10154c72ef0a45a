"""`migrasafe rules` and `migrasafe explain`: the rule docs."""
from __future__ import annotations

import argparse

from .errors import UsageError
from .output import write


def add_command(commands, only: str | None) -> None:
    rules = commands.add_parser("rules", help="list every rule", description="List every rule.")
    rules.set_defaults(command="rules", run=run_rules)

    explain = commands.add_parser(
        "explain", help="explain one rule", description="Explain one rule: what it catches, why, and what to do instead."
    )
    explain.add_argument("rule", metavar="ID_OR_NAME", help='a rule id ("MS001") or name')
    explain.set_defaults(command="explain", run=run_explain)


def run_rules(args: argparse.Namespace) -> int:
    from ..rules.registry import all_rules

    rules = all_rules()
    if not rules:
        return 0
    width_id = max(len(r.id) for r in rules)
    width_name = max(len(r.name) for r in rules)
    width_severity = max(len(r.severity) for r in rules)
    lines = [
        f"{r.id:<{width_id}}  {r.name:<{width_name}}  {r.severity:<{width_severity}}  {r.summary}".rstrip()
        for r in rules
    ]
    write("\n".join(lines) + "\n")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from ..rules.registry import get_rule

    rule = get_rule(args.rule.strip())
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r}{suggestion(args.rule)} (`migrasafe rules` lists every rule)")
    write(explanation(rule))
    return 0


def explanation(rule) -> str:
    parts = [f"# {rule.name} ({rule.id})", ""]
    parts.append(f"Severity: {rule.severity}")
    if rule.versions:
        parts.append(f"Versions: {rule.versions}")
    parts.append("")
    sections = [
        ("What it does", rule.what, False),
        ("Why is this bad?", rule.why, False),
        ("Example", rule.example, True),
        ("Use instead", rule.use_instead, True),
    ]
    for heading, body, is_sql in sections:
        body = (body or "").strip("\n")
        if not body.strip():
            continue
        parts.append(f"## {heading}")
        parts.extend(["```sql", body, "```"] if is_sql else [body])
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def suggestion(word: str) -> str:
    """ "; did you mean MS001 (index-without-concurrently)?" for the closest rules, or ""."""
    from difflib import SequenceMatcher

    from ..rules.registry import all_rules

    word = word.strip().lower()
    scored = []
    for rule in all_rules():
        score = 0.0
        for key in (rule.id.lower(), rule.name):
            ratio = SequenceMatcher(None, word, key).ratio()
            # "MS01" or "index-without" are more likely the start of what was meant.
            if key.startswith(word):
                ratio += 0.1
            score = max(score, ratio)
        if score >= 0.6:
            scored.append((score, rule))
    scored.sort(key=lambda pair: -pair[0])
    close = [rule for _, rule in scored[:3]]
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"{r.id} ({r.name})" for r in close) + "?"
