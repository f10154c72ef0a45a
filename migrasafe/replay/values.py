"""SQL expressions that make the g-th synthetic value of a column, from its type.

`g` is the row's number from generate_series. Values built from g itself are distinct, so primary
and unique keys hold; the others repeat with a period, as real data does. Text is the row number and
the column's name, ten to twenty characters, as short strings are what most columns hold.
"""
from __future__ import annotations

import math

from psycopg import sql as q

from .hints import Hint
from .schema import Column

# Repeating values cycle through this many distinct ones.
PERIOD = 100_000
RANGES = {"int4range": "int4", "int8range": "int8", "numrange": "numeric", "daterange": "date",
          "tsrange": "timestamp", "tstzrange": "timestamptz"}
INTEGER_LIMITS = {"int2": 32_767, "int4": 2_147_483_647, "int8": 9_223_372_036_854_775_807}


def literal(text: str) -> str:
    return q.Literal(text).as_string(None)


def value_sql(column: Column, hint: Hint | None, unique: bool, g: str = "g") -> str | None:
    """An expression of g for the column's base type, or None when no sensible one is known."""
    hint = hint or Hint()
    if hint.values:
        values = ", ".join(hint.values)
        return f"(ARRAY[{values}])[({g} % {len(hint.values)}) + 1]"
    if column.enum_labels:
        labels = ", ".join(literal(label) for label in column.enum_labels)
        return f"(ARRAY[{labels}])[({g} % {len(column.enum_labels)}) + 1]"
    if column.category == "A" and column.element:
        element = scalar_sql(column.element, column, Hint(), unique=False, g=g)
        return f"ARRAY[{element}]" if element else None
    return scalar_sql(column.base, column, hint, unique, g)


def scalar_sql(base: str, column: Column, hint: Hint, unique: bool, g: str) -> str | None:
    name = column.name
    if base in INTEGER_LIMITS or base in ("numeric", "float4", "float8", "money", "oid"):
        return number_sql(base, column, hint, unique, g)
    if base in ("text", "varchar", "bpchar", "name", "citext"):
        limit = min(filter(None, [column.length, hint.max_length]), default=None)
        if limit is not None and limit < 12:
            return f"right({g}::text, {limit})"
        # The row number first, so a cut to the column's length keeps values distinct; short,
        # as most stored strings are, so that narrowing a varchar is not refused for our data.
        text = f"{g}::text || ' ' || {literal(name[:8])}"
        return f"left({text}, {limit})" if limit is not None else text
    if base == "bool":
        return f"({g} % 2 = 0)"
    if base == "uuid":
        return f"md5({literal(name)} || {g}::text)::uuid"
    if base == "date":
        return f"(date '2020-01-01' + ({g} % 3650)::int)"
    if base in ("timestamp", "timestamptz"):
        if unique:
            return f"(timestamp '2020-01-01' + {g} * interval '1 second')"
        return f"(timestamp '2020-01-01' + ({g} % 5000000) * interval '1 minute')"
    if base in ("time", "timetz"):
        return f"(time '00:00' + ({g} % 86400) * interval '1 second')"
    if base == "interval":
        return f"(({g} % 10000) * interval '1 minute')"
    if base in ("json", "jsonb"):
        return f"{base}_build_object('n', {g}, 'tag', {literal(name)})"
    if base == "bytea":
        return f"decode(md5({g}::text), 'hex')"
    if base == "inet":
        return f"('10.0.0.0'::inet + ({g} % 16000000))"
    if base == "cidr":
        return f"set_masklen(('10.0.0.0'::inet + ({g} % 65536) * 256)::cidr, 24)"
    if base in ("macaddr", "macaddr8"):
        return f"lpad(to_hex({g} % 281474976710656), 12, '0')::{base}"
    if base == "xml":
        return f"xmlelement(name v, {g})"
    if base == "tsvector":
        return f"to_tsvector('simple', 'word' || {g})"
    if base == "point":
        return f"point({g} % 1000, {g} / 1000)"
    if base in RANGES:
        low = scalar_sql(RANGES[base], column, Hint(), unique=True, g=g)
        step = {"int4range": "1", "int8range": "1", "numrange": "1", "daterange": "1"}.get(base, "interval '1 second'")
        # Ranges one step wide starting at distinct points never overlap: exclusion constraints hold.
        return f"{base}({low}, {low} + {step})"
    if base in ("bit", "varbit"):
        return f"({g} % 2)::text::{base}" if (column.length or 1) == 1 else f"({g} % 2)::bit(1)::text::{base}"
    return None


def number_sql(base: str, column: Column, hint: Hint, unique: bool, g: str) -> str:
    step = 1.0
    low = hint.low if hint.low is None or hint.low_inclusive else hint.low + step
    high = hint.high if hint.high is None or hint.high_inclusive else hint.high - step
    limit = INTEGER_LIMITS.get(base)
    digits = column.numeric_limits
    if digits is not None:
        precision, scale = digits
        limit = 10 ** max(precision - scale, 0) - 1
    if limit is not None:
        high = limit if high is None else min(high, limit)
        if low is None:
            low = 0 if high >= 0 else -limit
    if low is not None and high is not None:
        span = max(int(math.floor(high) - math.ceil(low)) + 1, 1)
        period = span if unique else min(span, PERIOD)
        value = f"({int(math.ceil(low))} + ({g} % {period}))"
    elif low is not None:
        value = f"({int(math.ceil(low))} + {g})" if unique else f"({int(math.ceil(low))} + ({g} % {PERIOD}))"
    elif high is not None:
        value = f"({int(math.floor(high))} - ({g} % {PERIOD}))"
    else:
        value = g if unique else f"({g} % {PERIOD})"
    if base == "money":
        return f"{value}::numeric::money"
    if base in ("numeric", "float4", "float8") and not unique and (digits is None or digits[1] > 0):
        # Fractions, kept inside the bounds: only ever added to values below the top one.
        return f"({value} + CASE WHEN {value} < {int(high) if high is not None else 'NULL'} OR {high is None} " \
               f"THEN ({g} % 100) / 100.0 ELSE 0 END)"
    return value
