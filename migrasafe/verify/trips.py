"""Which migrations get a round trip, and which are only applied for the schema the others start from.

`--from V` and `--to V` name migration versions (inclusive, as each tool spells them: `000002`,
`2.1`, an Alembic revision or its first characters, `shop.0003`); the migrations after `--to` are
not run at all. `--since REF` keeps the round trips of the migrations whose files (or backward
parts) changed since REF (changed.py). Migrations read only for their schema (Django's contrib
apps, the files before one named on its own) are applied forward only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..changed import resolved
from ..sources.plan import ALEMBIC, DJANGO
from ..sources.versions import same_version
from .parts import Chain, Step


class SelectionError(Exception):
    """--from or --to names no migration; the message says which."""


@dataclass
class Trip:
    step: Step
    round_trip: bool
    why: str = ""  # why it is applied forward only


def plan_trips(chains: list[Chain], start: str | None = None, stop: str | None = None,
               changed: set[Path] | None = None) -> list[tuple[Chain, list[Trip]]]:
    for option, value in (("--from", start), ("--to", stop)):
        if value is not None and not any(matches(s, value) for c in chains for s in c.steps):
            raise SelectionError(f"{option} {value}: no migration has this version")
    planned = []
    for chain in chains:
        trips: list[Trip] = []
        first = _position(chain, start, first=True) if start is not None else 0
        last = _position(chain, stop, first=False) if stop is not None else len(chain.steps) - 1
        if first is None:
            first = len(chain.steps)  # --from names a migration of another history
        if last is None:
            last = len(chain.steps) - 1
        for index, step in enumerate(chain.steps[: last + 1]):
            if step.context:
                trips.append(Trip(step, False, "read for the schema only"))
            elif index < first:
                trips.append(Trip(step, False, f"before --from {start}"))
            elif changed is not None and not _changed(step, changed):
                trips.append(Trip(step, False, "unchanged since the --since ref"))
            else:
                trips.append(Trip(step, True))
        planned.append((chain, trips))
    return planned


def matches(step: Step, value: str) -> bool:
    migration = step.forward
    version = migration.version
    if value == version or value == step.name or same_version(migration.format, version, value):
        return True
    if value.isdigit() and version.isdigit():  # 2 for 00002
        return int(value) == int(version)
    return migration.format in (ALEMBIC, DJANGO) and version.startswith(value)


def _position(chain: Chain, value: str, first: bool) -> int | None:
    found = [i for i, s in enumerate(chain.steps) if matches(s, value)]
    if not found:
        return None
    return found[0] if first else found[-1]


def _changed(step: Step, changed: set[Path]) -> bool:
    parts = [step.forward, step.backward.migration, *step.checks]
    files = {p.meta.get("file") for p in parts if p is not None}
    files.discard(None)
    files.discard("")
    return any(resolved(f) in changed for f in files)
