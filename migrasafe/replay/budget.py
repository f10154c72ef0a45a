"""Time budgets a replayed migration is judged against, at production size.

    [tool.migrasafe.replay.budgets]
    access_exclusive = "2s"   # AccessExclusiveLock on a live table, held until it is released
    blocks_writes = "5s"      # any lock that makes INSERT/UPDATE/DELETE wait, on a live table
    migration = "3min"        # one migration file, first statement to last commit

A prediction above a budget is an error (MS095); one within its last 20 % is a warning, because
production rarely matches the synthetic rows exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

WARN_FRACTION = 0.8

UNITS_MS = {"ms": 1.0, "s": 1000.0, "sec": 1000.0, "min": 60_000.0, "h": 3_600_000.0}
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|h)?\s*$")


class BudgetError(ValueError):
    """A duration or budget setting that cannot be used."""


def parse_duration_ms(value, what: str) -> float:
    """ "2s", "500ms", "3min", "1h" or a plain number of seconds, in milliseconds."""
    if isinstance(value, bool):
        raise BudgetError(f"{what}: expected a duration such as \"2s\" or \"3min\", not {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise BudgetError(f"{what}: a duration cannot be negative")
        return float(value) * 1000.0
    found = DURATION.match(str(value))
    if not found:
        raise BudgetError(f"{what}: expected a duration such as \"2s\", \"500ms\" or \"3min\", not {value!r}")
    number, unit = found.groups()
    return float(number) * UNITS_MS[unit or "s"]


def format_ms(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(ms / 1000, 60)
    return f"{minutes:.0f} min {seconds:.0f} s"


@dataclass(frozen=True)
class Budgets:
    access_exclusive_ms: float = 2_000.0
    blocks_writes_ms: float = 5_000.0
    migration_ms: float = 180_000.0

    @classmethod
    def from_table(cls, table: dict, where: str) -> Budgets:
        names = {"access_exclusive": "access_exclusive_ms", "blocks_writes": "blocks_writes_ms",
                 "migration": "migration_ms"}
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise BudgetError(f"{where}: unknown budget(s) {', '.join(unknown)} "
                              f"(known: {', '.join(names)})")
        values = {names[key]: parse_duration_ms(value, f"{where}.{key}") for key, value in table.items()}
        return cls(**values)


def judge(predicted_ms: float, budget_ms: float) -> str | None:
    """'error' over the budget, 'warning' within its last 20 %, None below that."""
    if predicted_ms > budget_ms:
        return "error"
    if predicted_ms >= WARN_FRACTION * budget_ms:
        return "warning"
    return None
