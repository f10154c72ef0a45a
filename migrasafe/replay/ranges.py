"""Row numbers for the seeding connections: who makes which rows of a table.

A table's rows are made from row numbers base + 1, base + 2, ... (seed.InsertPlan); filters
drop some, so more numbers are tried until the rows wanted are in. `RowNumbers` hands out
ranges, never more numbers than rows are still missing, so however many connections take
ranges, the rows made are the first `need` row numbers that pass, as when one connection makes
them all in order.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

import psycopg

if TYPE_CHECKING:
    from .schema import Table
    from .seed import InsertPlan, Seeder

CHUNK_ROWS = 100_000
# A table wanting at least this many rows is filled by both seeding connections at once.
SPLIT_ROWS = 20_000
# Give up on a table after making this many times the rows wanted (the rest fell out on filters).
MAX_ATTEMPT_FACTOR = 4


def attempts(need: int) -> int:
    """Row numbers tried at most for `need` rows (the rest fell out on filters or keys)."""
    return MAX_ATTEMPT_FACTOR * need + CHUNK_ROWS


class RowNumbers:
    """Hands out ranges of row numbers until `need` rows are in, never more than are still missing."""

    def __init__(self, base: int, need: int):
        self.base = base
        self.need = need
        self.made = 0  # row numbers handed out
        self.inserted = 0
        self.pending = 0  # handed out, not yet in
        self.busy = 0  # ranges being made
        self.exhausted = False  # a range added nothing after `need` row numbers were tried
        self.problem: BaseException | None = None
        self.clash_free = False  # no row made can clash with another on a key (the plan's plain insert)
        self._changed = threading.Condition()

    def take(self, share: int = 1) -> tuple[int, int] | None:
        """The next range (low, high) for one of `share` connections; None when done. Waits while
        the others' ranges could still bring the count to `need`."""
        with self._changed:
            while True:
                if self.problem is not None or self.exhausted or self.inserted >= self.need:
                    return None
                if self.made >= attempts(self.need):
                    return None
                missing = self.need - self.inserted - self.pending
                if missing > 0:
                    # Split what is missing among the connections that have no range yet.
                    idle = max(share - self.busy, 1)
                    size = min(CHUNK_ROWS, max(-(-missing // idle), 1))
                    low = self.base + self.made + 1
                    self.made += size
                    self.pending += size
                    self.busy += 1
                    return low, low + size - 1
                self._changed.wait()

    def done(self, size: int, count: int) -> None:
        with self._changed:
            self.pending -= size
            self.busy -= 1
            self.inserted += max(count, 0)
            if count <= 0 and self.made >= self.need:
                self.exhausted = True  # past the row numbers wanted and nothing more passes
            self._changed.notify_all()

    def fail(self, err: BaseException) -> None:
        with self._changed:
            if self.problem is None:
                self.problem = err
            self._changed.notify_all()


def fill(seeder: Seeder, plan: InsertPlan | Callable[[], InsertPlan], table: Table, rows: RowNumbers,
         share: int = 1) -> None:
    """Make ranges of rows on `seeder`'s connection until none is left (`plan` may be made here)."""
    try:
        if callable(plan):
            plan = plan()
        statement = plan.plain if rows.clash_free and plan.plain is not None else plan.statement
        while (taken := rows.take(share)) is not None:
            low, high = taken
            try:
                count = seeder.conn.execute(statement, {"low": low, "high": high}).rowcount
            except psycopg.errors.UniqueViolation:
                if statement is plan.statement:
                    raise
                # A clash the plan did not foresee: this range and the rest skip clashing rows.
                statement = plan.statement
                count = seeder.conn.execute(statement, {"low": low, "high": high}).rowcount
            rows.done(high - low + 1, count)
            seeder.on_progress(f"seeding {table.qualified}", rows.inserted, rows.need)
    except BaseException as err:  # the caller raises it (a --timeout, a lost connection, a refused row)
        rows.fail(err)


def fill_together(workers: list[tuple[Seeder, InsertPlan | Callable[[], InsertPlan]]], table: Table,
                  rows: RowNumbers) -> None:
    """Each (seeder, plan) takes ranges on its own connection, the first on this thread."""
    others = [threading.Thread(target=fill, args=(seeder, plan, table, rows, len(workers)), daemon=True,
                               name="replay-seed") for seeder, plan in workers[1:]]
    for thread in others:
        thread.start()
    seeder, plan = workers[0]
    fill(seeder, plan, table, rows, len(workers))
    for thread in others:
        thread.join()
