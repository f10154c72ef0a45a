"""How much of a table a probe reads: all of it, or a TABLESAMPLE SYSTEM sample of a large one.

A table whose planner estimate (reltuples) is above the threshold is read through a sample of
about threshold rows (REPEATABLE, so the same database gives the same answer); the finding says
what share was read and scales the count it found. The side a foreign key points at is never
sampled: an orphan is a row whose parent is missing from the whole table.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SAMPLE_ABOVE = 1_000_000
SMALLEST_PERCENT = 0.0001
SEED = 1  # TABLESAMPLE ... REPEATABLE (SEED)


@dataclass(frozen=True)
class Sample:
    percent: float  # of the table's pages, TABLESAMPLE SYSTEM (percent)
    table_rows: int  # the planner's estimate of the whole table

    def describe(self) -> str:
        return f"a {self.percent:g}% TABLESAMPLE SYSTEM sample of about {self.table_rows:,} rows"

    def scaled(self, count: int) -> int:
        return round(count * 100 / self.percent)


def sample_for(rows_estimate: float, threshold: int) -> Sample | None:
    """None: read the whole table."""
    if threshold <= 0 or rows_estimate <= threshold:
        return None
    # Two significant figures: the share the finding states is the one read.
    percent = max(SMALLEST_PERCENT, float(f"{100 * threshold / rows_estimate:.2g}"))
    return Sample(percent, int(rows_estimate)) if percent < 100 else None
