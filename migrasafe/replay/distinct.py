"""When rows made from different row numbers cannot share a key, so that inserting them needs no
ON CONFLICT (which costs a fifth of the insert).

Each column's values (values.value_sql) are distinct over some run of consecutive row numbers:
a row number itself never repeats, a value taken modulo a period repeats after it. A unique key
holds over a run when one of its columns does.
"""
from __future__ import annotations

import math

from .hints import Hint
from .schema import Column, Table
from .values import INTEGER_LIMITS, PERIOD, RANGES


ENDLESS = float("inf")
# How many row numbers in a row get distinct values, per base type (value_sql's cycles).
TYPE_RUNS = {"bool": 2, "date": 3650, "time": 86_400, "timetz": 86_400, "interval": 10_000,
             "inet": 16_000_000, "cidr": 65_536, "macaddr": 2 ** 48, "macaddr8": 2 ** 48, "bit": 2, "varbit": 2,
             "uuid": ENDLESS, "json": ENDLESS, "jsonb": ENDLESS, "bytea": ENDLESS, "xml": ENDLESS,
             "tsvector": ENDLESS, "point": ENDLESS}


def distinct_run(column: Column, hint: Hint | None, unique: bool) -> float:
    """Over how many consecutive row numbers value_sql's values are all distinct: rows made from
    such a run never share a key through this column (0: values can repeat at once)."""
    hint = hint or Hint()
    if hint.values:
        return len(hint.values)
    if column.enum_labels:
        return len(column.enum_labels)
    if column.category == "A":
        return 0
    base = column.base
    if base in INTEGER_LIMITS or base in ("numeric", "float8", "money", "oid"):
        return number_run(column, hint, unique)
    if base in ("text", "varchar", "bpchar", "name", "citext"):
        limit = min(filter(None, [column.length, hint.max_length]), default=None)
        return 10 ** limit if limit is not None and limit < 12 else ENDLESS
    if base in ("timestamp", "timestamptz"):
        return ENDLESS if unique else 5_000_000
    if base in RANGES:
        return ENDLESS
    return TYPE_RUNS.get(base, 0)


def number_run(column: Column, hint: Hint, unique: bool) -> float:
    """number_sql's cycle: its value is g itself, or g modulo a period."""
    low = hint.low if hint.low is None or hint.low_inclusive else hint.low + 1.0
    high = hint.high if hint.high is None or hint.high_inclusive else hint.high - 1.0
    limit = INTEGER_LIMITS.get(column.base)
    digits = column.numeric_limits
    if digits is not None:
        limit = 10 ** max(digits[0] - digits[1], 0) - 1
    if limit is not None:
        high = limit if high is None else min(high, limit)
        if low is None:
            low = 0 if high >= 0 else -limit
    if low is not None and high is not None:
        span = max(int(math.floor(high) - math.ceil(low)) + 1, 1)
        return span if unique else min(span, PERIOD)
    return ENDLESS if unique and high is None else PERIOD


def distinct_rows(table: Table, runs: dict[str, float], fk_steps: dict[str, tuple[int, int]]) -> float:
    """InsertPlan.distinct_rows: the shortest run over which some column of every key stays distinct.

    A foreign-key column takes parent key number (g / radix) % keys: distinct over `keys` row
    numbers when its radix is 1, and a key of such columns whose radixes chain (1, k1, k1 * k2,
    ...) over all their combinations.
    """
    if not table.has_unique_index:
        return ENDLESS
    if table.has_exclusion or any(not key for key in table.unique_keys):
        return 0  # an expression or an exclusion: what makes two rows clash is not worked out here
    shortest = ENDLESS
    for key in table.unique_keys:
        longest = max((runs.get(name, 0) for name in key), default=0)
        steps = sorted({fk_steps[name] for name in key if name in fk_steps})
        for name in key:
            if name in fk_steps and fk_steps[name][0] == 1:
                longest = max(longest, fk_steps[name][1])
        if steps and all(name in fk_steps for name in key):
            product = 1
            for radix, keys in steps:
                if radix != product:
                    break
                product *= keys
            else:
                longest = max(longest, product)
        shortest = min(shortest, longest)
    return shortest
