"""`migrasafe verify`'s report: text for people, JSON for programs, Markdown for a pull request."""
from __future__ import annotations

import json

from .outcome import (FAILED, FORWARD_ONLY, IRREVERSIBLE, MISSING, NOT_RESTORED, NOT_VERIFIED, RESTORED, STATUSES,
                      VerifyReport)

FORMATS = ("text", "json", "markdown")


def render(report: VerifyReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return markdown(report)
    return text(report)


def verdict(report: VerifyReport) -> str:
    return {0: "pass", 1: "fail", 2: "incomplete"}[report.exit_code()]


def summary_line(report: VerifyReport) -> str:
    counts = report.counts()
    trips = sum(counts[s] for s in (RESTORED, NOT_RESTORED, FAILED))
    said = [f"{trips} round trip{'s' if trips != 1 else ''}: {counts[RESTORED]} restored the schema"]
    if counts[NOT_RESTORED]:
        said.append(f"{counts[NOT_RESTORED]} did not")
    if counts[FAILED]:
        said.append(f"{counts[FAILED]} failed")
    others = [f"{counts[s]} {s}" for s in (MISSING, IRREVERSIBLE, FORWARD_ONLY, NOT_VERIFIED) if counts[s]]
    line = ", ".join(said)
    if others:
        line += "; " + ", ".join(others)
    errors = len(report.problems)
    if errors:
        line += f"; {errors} input error{'s' if errors != 1 else ''}"
    return f"{line} — verdict: {verdict(report)}"


def text(report: VerifyReport) -> str:
    lines = [f"{n.path}:{n.line}: {n.severity}: {n.message}" for n in report.problems]
    for chain in report.chains:
        for trip in chain.trips:
            lines += [f"{n.path}:{n.line}: {n.severity}: {n.message}" for n in trip.notes]
    if lines:
        lines.append("")
    if report.server:
        lines.append(f"verify: {report.server}, {report.elapsed_ms / 1000:.1f} s")
    for chain in report.chains:
        counts: dict[str, int] = {}
        for trip in chain.trips:
            counts[trip.status] = counts.get(trip.status, 0) + 1
        said = ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
        number = len(chain.trips)
        lines.append(f"  {chain.root} ({chain.format}, {number} migration{'s' if number != 1 else ''}): {said}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def markdown(report: VerifyReport) -> str:
    out = [f"### migrasafe verify: {verdict(report)}", "", summary_line(report), ""]
    if report.problems:
        out += ["**Input errors**", ""] + [f"- `{p.path}:{p.line}` {_md(p.message)}" for p in report.problems] + [""]
    for chain in report.chains:
        out += [f"**{_md(chain.root)}** ({chain.format})", "", "| migration | backward part | result |",
                "| --- | --- | --- |"]
        for trip in chain.trips:
            backward = f"`{_md(trip.backward_path)}`" if trip.backward_path else "—"
            out.append(f"| `{_md(trip.name)}` | {backward} | {trip.status} |")
        out.append("")
        notes = [n for t in chain.trips for n in t.notes]
        if notes:
            out += [f"- {'❌' if n.severity == 'error' else 'ℹ️'} `{_md(n.path)}:{n.line}` {_md(n.message)}"
                    for n in notes] + [""]
    if report.server:
        out.append(f"<sub>{_md(report.server)}, {report.elapsed_ms / 1000:.1f} s</sub>")
    return "\n".join(out) + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("`", "'")
