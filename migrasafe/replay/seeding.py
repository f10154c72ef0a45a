"""Which tables are seeded before a migration, and on which of two connections.

Making rows keeps one server process busy per table, so the seeder's connection and a second one
share the tables: each takes the next table whose parents are done (a child picks existing parent
keys), so a machine with two cores seeds about twice as fast.

A migration that needs a table seeded usually needs few: the tables later migrations touch are
seeded with them when that changes nothing but the time (ahead_tables), so the two connections
have work to share instead of one table at a time.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Iterable

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


def ancestors(table: Table, tables: dict[int, Table]) -> set[int]:
    """Every table the foreign keys of `table` reach, transitively (seeded or not)."""
    out: set[int] = set()
    stack = [table]
    while stack:
        for fk in stack.pop().foreign_keys:
            if fk.parent_oid not in out and fk.parent_oid != table.oid:
                out.add(fk.parent_oid)
                parent = tables.get(fk.parent_oid)
                if parent is not None:
                    stack.append(parent)
    return out


def ahead_tables(ahead: Iterable[tuple[set[str], set[str]]], tables: dict[int, Table],
                 seeded: set[int]) -> list[Table]:
    """The unseeded tables a later migration needs that can be seeded now with the same rows.

    `ahead` gives, for each later migration in turn, the tables it touches and the tables touched
    by the migrations before it, from the one about to run (replay/touched.py seed_ahead). Such a
    table, and each one its foreign keys reach, must be untouched until then: its rows, and the
    parent keys they pick, are then those it would get just before the migration that needs it.
    """
    by_name = {t.qualified: t for t in tables.values()}
    out: dict[int, Table] = {}
    unseeded = {oid for oid in tables if oid not in seeded}
    for needed, barred in ahead:
        if not unseeded - out.keys():
            break
        chosen = [by_name[name] for name in needed if name in by_name]
        for table in chosen + [tables[oid] for t in chosen for oid in ancestors(t, tables) if oid in tables]:
            if table.oid not in unseeded or table.oid in out:
                continue
            reach = {table.qualified} | {tables[oid].qualified for oid in ancestors(table, tables) if oid in tables}
            if not reach & barred:
                out[table.oid] = table
    return list(out.values())


def seed_one(seeder: Seeder, table: Table, rows_for: Callable[[str, str], int]) -> SeedResult | None:
    result = seeder.seed_table(table, rows_for(table.schema, table.name))
    seeder.seeded.add(table.oid)
    if result is not None and result.inserted:
        seeder.conn.execute(q.SQL("VACUUM (ANALYZE) {}").format(q.Identifier(result.schema, result.name)))
    return result


def seed_tables(main: Seeder, helper: Seeder | None, ordered: list[Table],
                rows_for: Callable[[str, str], int]) -> list[SeedResult]:
    """Seed `ordered` (parents first) on `main` and, beside it, on `helper`."""
    results: dict[int, SeedResult | None] = {}
    if helper is None or len(ordered) < 2:
        for table in ordered:
            results[table.oid] = seed_one(main, table, rows_for)
        return [results[t.oid] for t in ordered if results.get(t.oid) is not None]
    position = {t.oid: number for number, t in enumerate(ordered)}
    # Only parents earlier in the order are waited for: a cycle's other edge keeps its keys NULL.
    waits_for = {t.oid: {fk.parent_oid for fk in t.foreign_keys
                         if position.get(fk.parent_oid, len(ordered)) < position[t.oid]} for t in ordered}
    pending = list(ordered)
    done: set[int] = set()
    failure: list[BaseException] = []
    changed = threading.Condition()

    def take() -> Table | None:
        with changed:
            while pending and not failure:
                ready = next((t for t in pending if waits_for[t.oid] <= done), None)
                if ready is not None:
                    pending.remove(ready)
                    return ready
                changed.wait()
            return None

    def work(seeder: Seeder) -> None:
        try:
            while (table := take()) is not None:
                try:
                    results[table.oid] = seed_one(seeder, table, rows_for)
                finally:
                    with changed:
                        done.add(table.oid)
                        changed.notify_all()
        except BaseException as err:  # the main thread raises it (a --timeout, a lost connection)
            with changed:
                failure.append(err)
                changed.notify_all()

    other = threading.Thread(target=work, args=(helper,), name="replay-seed", daemon=True)
    other.start()
    work(main)
    other.join()
    if failure:
        raise failure[0]
    return [results[t.oid] for t in ordered if results.get(t.oid) is not None]
