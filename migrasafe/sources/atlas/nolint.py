"""`-- atlas:nolint [analyzer or check ...]` read as a suppression of the migrasafe findings that
mean the same thing.

Atlas's checks and analyzers (https://atlasgo.io/lint/analyzers, ariga/atlas doc/md/lint/analyzers.mdx)
map to migrasafe rules only where both flag the same change for the same reason:

    BC101 renaming a table                         MS041 rename-table
    BC102 renaming a column                        MS040 rename-column
    DS102 table was dropped                        MS043 drop-table
    DS103 non-virtual column was dropped           MS042 drop-column
    MF103 non-nullable column added to a table     MS026 add-column-not-null-without-default
    PG101 CREATE INDEX without CONCURRENTLY        MS001 index-without-concurrently
    PG102 DROP INDEX without CONCURRENTLY          MS002 drop-index-without-concurrently
    PG104/PG105 PRIMARY KEY / UNIQUE constraint    MS022 unique-constraint-builds-index
    PG301 column type change rewrites the table    MS011 rewriting-type-change
    PG302 volatile DEFAULT rewrites the table      MS010 volatile-default-rewrite
    PG303/PG304 SET NOT NULL scans the table       MS024 set-not-null-scan
    PG305 CHECK constraint scans the table         MS021 check-without-not-valid

Analyzer names cover their checks: `destructive` (DS), `incompatible` (BC), `data_depend` (MF),
`concurrent_index` (PG101..PG105). The other checks (DS101, CD101, MF101, MF102, MF104, PG103,
PG110, naming) have no migrasafe rule of the same meaning and suppress nothing; an unknown word
(a truncated `data_depe`) suppresses nothing either, as in Atlas.

A bare `-- atlas:nolint` waives what Atlas's lint reported on its statement (in the file header:
on the whole file), so it covers the migrasafe rules of the analyzers Atlas runs for the project:
`destructive`, `incompatible` and `data_depend` always (Atlas's default analyzers), and
`concurrent_index` only when the project's atlas.hcl `lint` block configures it (a Pro analyzer,
"reported by default" once it runs). It never covers a rule no Atlas analyzer ran — the locks,
rewrites, scans, backfills and lock_timeout migrasafe checks — nor the PG3xx blocking-change
checks, which a bare nolint cannot be shown to have waived: name them (`-- atlas:nolint PG301`).
"""
from __future__ import annotations

from .directives import DIRECTIVE, header_directives

CHECKS = {
    "BC101": ("MS041",), "BC102": ("MS040",),
    "DS102": ("MS043",), "DS103": ("MS042",),
    "MF103": ("MS026",),
    "PG101": ("MS001",), "PG102": ("MS002",), "PG104": ("MS022",), "PG105": ("MS022",),
    "PG301": ("MS011",), "PG302": ("MS010",), "PG303": ("MS024",), "PG304": ("MS024",),
    "PG305": ("MS021",),
}
ANALYZERS = {
    "destructive": ("DS101", "DS102", "DS103"),
    "incompatible": ("BC101", "BC102"),
    "data_depend": ("MF101", "MF102", "MF103", "MF104"),
    "concurrent_index": ("PG101", "PG102", "PG103", "PG104", "PG105"),
}
# Atlas runs these on every `migrate lint`; others only when atlas.hcl's lint block sets them up.
DEFAULT_ANALYZERS = ("destructive", "incompatible", "data_depend")
CONFIGURED_ANALYZERS = ("concurrent_index",)


def rules_of(args: str, configured=()) -> list[str]:
    """The migrasafe rule ids a nolint directive's arguments name; for a bare directive, those of
    the analyzers Atlas runs (`configured`: the analyzers atlas.hcl's lint block names)."""
    words = [w for w in args.replace(",", " ").split() if w]
    if not words:
        words = [*DEFAULT_ANALYZERS, *(a for a in CONFIGURED_ANALYZERS if a in configured)]
    out: list[str] = []
    for word in words:
        checks = ANALYZERS.get(word.lower(), (word.upper(),))
        for check in checks:
            for rule in CHECKS.get(check, ()):
                if rule not in out:
                    out.append(rule)
    return out


def nolint_directives(text: str, configured=()) -> list[tuple[int, bool, list[str], str]]:
    """(line the directive applies to, whole file?, rule ids, the directive as written) for each
    `atlas:nolint`. A statement's directive is among the comment lines right above it; the line
    given is the one just before the statement's first line, where migrasafe's own directives sit."""
    lines = text.split("\n")
    header = {d.line for d in header_directives(text) if d.name == "nolint"}
    out = []
    for number, line in enumerate(lines, 1):
        match = DIRECTIVE.match(line)
        if not match or match["name"] != "nolint":
            continue
        rules = rules_of(match["args"], configured)
        written = line.strip()
        if number in header:
            out.append((number, True, rules, written))
            continue
        following = number
        while following < len(lines) and lines[following].strip().startswith(("--", "#")):
            following += 1
        if following < len(lines) and lines[following].strip():
            out.append((following, False, rules, written))  # `following` is the 0-based statement line
    return out


def covers(rule: str, finding_rule: str) -> bool:
    return rule == finding_rule
