"""Read migration files the way their tool runs them.

    migrations, findings = read_migrations(paths, config)

Returns `Migration`s grouped by history (one folder of migrations), each history in the order its
tool runs it on an empty database, and run-level findings. Bad input never raises: it becomes an
MS099 finding and the rest is still read.
"""
from __future__ import annotations

from ..config import Config
from ..model import Finding, Migration
from .plan import Plan


def read_migrations(paths: list[str], config: Config,
                    skipped: dict[str, str] | None = None) -> tuple[list[Migration], list[Finding]]:
    """`skipped`, when given, receives the files in migration folders that were not read, with why."""
    plan = Plan(config)
    for given in paths:
        plan.add(given)
    migrations = plan.migrations()
    if skipped is not None:
        skipped.update(plan.skipped)
    return migrations, plan.findings


__all__ = ["read_migrations"]
