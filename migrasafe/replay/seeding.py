"""Seed tables two at a time: the tables of one dependency level (none references another not yet
seeded) are shared between the seeder's connection and a second one. Making rows keeps one
server process busy per table, so a machine with two cores seeds about twice as fast; a child
still waits for its parents, whose keys it picks from.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

from psycopg import sql as q

if TYPE_CHECKING:
    from .schema import Table
    from .seed import Seeder, SeedResult


def dependency_levels(ordered: list[Table]) -> list[list[Table]]:
    """`ordered` (parents first) cut into levels: each table one level below its deepest parent."""
    level: dict[int, int] = {}
    for table in ordered:
        parents = [level[fk.parent_oid] for fk in table.foreign_keys
                   if fk.parent_oid in level and fk.parent_oid != table.oid]
        level[table.oid] = 1 + max(parents, default=-1)
    groups: dict[int, list[Table]] = {}
    for table in ordered:
        groups.setdefault(level[table.oid], []).append(table)
    return [groups[number] for number in sorted(groups)]


def seed_one(seeder: Seeder, table: Table, rows_for: Callable[[str, str], int]) -> SeedResult | None:
    result = seeder.seed_table(table, rows_for(table.schema, table.name))
    seeder.seeded.add(table.oid)
    if result is not None and result.inserted:
        seeder.conn.execute(q.SQL("VACUUM (ANALYZE) {}").format(q.Identifier(result.schema, result.name)))
    return result


def seed_levels(main: Seeder, helper: Seeder | None, ordered: list[Table],
                rows_for: Callable[[str, str], int]) -> list[SeedResult]:
    results: dict[int, SeedResult | None] = {}
    for level in dependency_levels(ordered):
        if helper is None or len(level) < 2:
            for table in level:
                results[table.oid] = seed_one(main, table, rows_for)
            continue
        pending = list(level)
        guard = threading.Lock()
        failure: list[BaseException] = []

        def work(seeder: Seeder) -> None:
            try:
                while not failure:
                    with guard:
                        if not pending:
                            return
                        table = pending.pop(0)
                    results[table.oid] = seed_one(seeder, table, rows_for)
            except BaseException as err:  # the main thread raises it (a --timeout, a lost connection)
                failure.append(err)

        other = threading.Thread(target=work, args=(helper,), name="replay-seed", daemon=True)
        other.start()
        work(main)
        other.join()
        if failure:
            raise failure[0]
    return [results[t.oid] for t in ordered if results.get(t.oid) is not None]
