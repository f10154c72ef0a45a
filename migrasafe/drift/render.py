"""The drift report as text, JSON or Markdown."""
from __future__ import annotations

import json

from .result import DriftResult

MARKS = {"removed": "-", "added": "+", "changed": "~"}
WHERE = {"removed": "only in the migrations", "added": "only in the database", "changed": "changed"}


def render(result: DriftResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return markdown(result)
    return text(result)


def text(result: DriftResult) -> str:
    lines = [f"migrations: {', '.join(result.histories)}", f"applied on: {result.replayed_on}",
             f"compared with: {result.live}"]
    if result.roles:
        lines.append(roles_line(result.roles))
    lines.append("")
    for failure in result.failures:
        lines.append(f"{failure.path}:{failure.line}: failed on the throwaway server: {failure.error}")
        lines.append(f"  {failure.statement}")
    lines.extend(f"not applied: {problem}" for problem in result.problems)
    if result.skipped:
        lines.append(f"not applied: {len(result.skipped)} file(s) of the migration folders that are not read "
                     f"(first: {next(iter(result.skipped))}: {next(iter(result.skipped.values()))})")
    if result.failures or result.problems or result.skipped:
        lines.append("")
    lines.extend(f"{MARKS[d.change]} {d.message}" for d in result.differences)
    if result.differences:
        lines.append("")
    lines.append(result.summary())
    return "\n".join(lines) + "\n"


def markdown(result: DriftResult) -> str:
    lines = ["## Schema drift", "", f"- migrations: {', '.join(result.histories)}",
             f"- applied on: {result.replayed_on}", f"- compared with: {result.live}"]
    if result.roles:
        lines.append(f"- {roles_line(result.roles)}")
    lines.append("")
    if result.failures:
        lines += ["### Could not apply", "", "| file | statement | error |", "|---|---|---|"]
        lines += [f"| `{f.path}:{f.line}` | `{cell(f.statement)}` | {cell(f.error)} |" for f in result.failures]
        lines.append("")
    if result.problems:
        lines += [f"- not applied: {cell(p)}" for p in result.problems] + [""]
    if result.differences:
        lines += ["| | object | difference |", "|---|---|---|"]
        for d in result.differences:
            lines.append(f"| {WHERE[d.change]} | {d.kind} `{cell(d.identity)}` | {cell(d.message)} |")
        lines.append("")
    lines.append(f"**{result.summary()}**")
    return "\n".join(lines) + "\n"


def roles_line(roles: list[str], shown: int = 5) -> str:
    names = ", ".join(roles[:shown]) + (f" and {len(roles) - shown} more" if len(roles) > shown else "")
    return f"roles of the live server made first on the throwaway server (migrations grant to roles they do not create): {names}"


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
