"""ALTER COLUMN TYPE: will every value the column holds convert?

The value converted is the USING expression (or the column), cast to the new type. Three tests,
the most exact one the server and the types allow:

- the new type is an enum whose labels the migrations define (a type recreated without a value,
  say): the values not among its labels, counted and grouped;
- PostgreSQL 16 or later, and the value is text-like: `pg_input_is_valid(value::text, type)`
  counts every row that would not convert, in one query;
- otherwise the conversion itself: one query casting every row, in a savepoint. When it fails,
  rows are cast one at a time, each in its own savepoint (all of them when the table has at
  most PER_ROW_LIMIT rows, else PER_ROW_LIMIT of them spread by a hash of their key), to count
  them and to name one; when none of the probed rows fails, a bisection over the key order
  finds one.
"""
from __future__ import annotations

from pglast import ast

from ..catalog.names import type_spec
from ..plan.sql import ident, literal
from ..rules.base import expression
from .probes import Outcome, column, example_of, offending
from .rows import Rows
from .sampling import Sample
from .session import ProbeError, Session

PER_ROW_LIMIT = 1000
ENUM_VALUES_SHOWN = 5


def converted_value(rows: Rows, name: str, type_name: ast.TypeName, using, resolve) -> tuple[str, bool]:
    """The SQL of the value cast to the new type, stripped of a final cast to that same type,
    and whether that cast was written (explicit) rather than the assignment PostgreSQL adds."""
    if using is None:
        return column(rows, name), False
    if isinstance(using, ast.TypeCast) and same_type(using.typeName, type_name, resolve):
        return f"({expression(using.arg)})", True
    return f"({expression(using)})", False


def same_type(a: ast.TypeName, b: ast.TypeName, resolve) -> bool:
    try:
        return type_spec(a, resolve) == type_spec(b, resolve)
    except (AttributeError, TypeError):
        return False


def enum_conversion(session: Session, rows: Rows, sample: Sample | None, value: str, labels: list[str],
                    target: str, rule: str) -> Outcome | None:
    text = f"({value})::text"
    allowed = ", ".join(literal(label) for label in labels) or "NULL"
    condition = f"{text} IS NOT NULL AND {text} <> ALL (ARRAY[{allowed}]::text[])"
    count, key, values = offending(session, rows, sample, condition, [("value", text)])
    if not count:
        return None
    grouped = session.query(f"SELECT {text}, count(*) FROM {rows.source(sample and sample.percent)} WHERE {condition} "
                            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {ENUM_VALUES_SHOWN + 1}")
    listed = ", ".join(f"{literal(v)} ({n:,})" for v, n in grouped[:ENUM_VALUES_SHOWN])
    if len(grouped) > ENUM_VALUES_SHOWN:
        listed += ", …"
    problem = (f"hold a value {target} no longer has" if rule == "MS066"
               else f"hold a value that is not a label of {target}")
    return Outcome(rule, count, example_of(rows, key, [("value", "")], values), problem, sample,
                   detail=f"values not in {target}: {listed}")


def text_conversion(session: Session, rows: Rows, sample: Sample | None, value: str, target: str) -> Outcome | None:
    """PostgreSQL 16+: pg_input_is_valid tests each text value without raising an error."""
    condition = f"{value} IS NOT NULL AND NOT pg_input_is_valid(({value})::text, {literal(target)})"
    count, key, values = offending(session, rows, sample, condition, [("value", f"({value})::text")])
    if not count:
        return None
    shown = values[0] if values else None
    message = session.value(f"SELECT message FROM pg_input_error_info({literal(str(shown))}, {literal(target)})") \
        if shown is not None else None
    return Outcome("MS065", count, example_of(rows, key, [("value", "")], values),
                   f"hold a value that does not convert to {target}", sample,
                   detail=(f"{message}; " if message else "") + "tested on every row with pg_input_is_valid")


def is_text_like(session: Session, rows: Rows, value: str) -> bool:
    session.query(f"SELECT {value} FROM {rows.source()} LIMIT 0")
    types = session.last_types
    return bool(types) and session.type_category(types[0]) == "S"


def cast_conversion(session: Session, rows: Rows, sample: Sample | None, value: str, target: str) -> Outcome | None:
    """The cast itself, on all the rows at once; then row by row when that fails."""
    source = rows.source(sample and sample.percent)
    cast = f"({value})::{target}"
    try:
        session.query(f"SELECT count({cast}) FROM {source}")
        return None
    except ProbeError as err:
        if not err.data_error:
            raise
        failure = str(err)
    keys = rows.key_sql(rows.alias)
    total = int(session.value(f"SELECT count(*) FROM {source}"))
    # A spread of the rows that is the same on every run: ordered by a hash of their key.
    order = f"md5(ROW({', '.join(keys)})::text)" if total > PER_ROW_LIMIT else ", ".join(keys)
    chosen = session.query(f"SELECT {', '.join(keys)} FROM {source} ORDER BY {order} LIMIT {PER_ROW_LIMIT}")
    failed, first, first_error = 0, None, failure
    for key in chosen:
        try:
            session.query(f"SELECT {cast} FROM {source} WHERE {key_match(rows, key)}")
        except ProbeError as err:
            if not err.data_error:
                raise
            failed += 1
            if first is None:
                first, first_error = list(key), str(err)
    probed = len(chosen)
    how = (f"cast one row at a time in savepoints, {probed:,} of the {total:,} rows" if probed < total
           else "cast one row at a time in savepoints, every row")
    at_least = False
    if first is None:
        first = bisect(session, rows, source, cast, total)
        failed, at_least = 1, True
        how = (f"the cast fails on the table but on none of {probed:,} rows cast one at a time; "
               "the row named was found by bisection")
    example = rows.key_text(first) if first is not None else "no row could be named"
    return Outcome("MS065", failed, example, f"hold a value that does not convert to {target}", sample,
                   detail=f"{first_error}; {how}", probed=probed if probed < total and not at_least else None,
                   at_least=at_least)


def key_match(rows: Rows, key) -> str:
    types = rows.key_types
    return " AND ".join(f"{k} = {literal(str(v))}::{t}" for k, v, t in zip(rows.key_sql(rows.alias), key, types))


def bisect(session: Session, rows: Rows, source: str, cast: str, total: int):
    """The first row, in key order, whose cast fails: halves of the rows tested in turn."""
    keys = ", ".join(rows.key_sql(rows.alias))
    alias = ident(rows.alias)
    low, size = 0, total
    while size > 1:
        half = size // 2
        window = f"(SELECT * FROM {source} ORDER BY {keys} OFFSET {low} LIMIT {half}) AS {alias}"
        try:
            session.query(f"SELECT count({cast}) FROM {window}")
            low, size = low + half, size - half
        except ProbeError as err:
            if not err.data_error:
                raise
            size = half
    found = session.query(f"SELECT {keys} FROM {source} ORDER BY {keys} OFFSET {low} LIMIT 1")
    return list(found[0]) if found else None

