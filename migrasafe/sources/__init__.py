"""Read migration files the way their tool runs them.

    migrations, findings = read_migrations(paths, config)

Returns `Migration`s grouped by history (one folder of migrations), each history in the order its
tool runs it on an empty database, and run-level findings. Bad input never raises: it becomes an
MS099 finding and the rest is still read.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..model import Finding, Migration
from .entries import History
from .listing import sniffing_once
from .plan import Plan


def read_migrations(paths: list[str], config: Config, skipped: dict[str, str] | None = None,
                    listed: list[Listed] | None = None) -> tuple[list[Migration], list[Finding]]:
    """`skipped`, when given, receives the files in migration folders that were not read, with why;
    `listed`, each history of migration files as its tool lists it (for migrasafe/history)."""
    plan = Plan(config)
    with sniffing_once():
        for given in paths:
            plan.add(given)
        migrations = plan.migrations()
    if skipped is not None:
        skipped.update(plan.skipped)
    if listed is not None:
        seen = set()
        for request in plan.requests.values():
            history = plan.histories.get((request.root, request.format))
            if history is not None and request.standalone is None and id(history) not in seen:
                seen.add(id(history))
                listed.append(Listed(history, request.display_root))
    return migrations, plan.findings


@dataclass(frozen=True)
class Listed:
    history: History
    display_root: str  # the user's spelling of the history's folder


__all__ = ["Listed", "read_migrations"]
