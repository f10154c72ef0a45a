"""Probes: one read-only query per way a statement can fail on the rows it meets.

Each returns an Outcome when rows would make the statement fail, None when none do; a probe
that cannot run raises ProbeError or ProbeTimeout (session.py). Conditions are SQL built from
the statement's parsed expressions, printed back by pglast, and evaluated on the rows view.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..plan.sql import ident
from .rows import Rows, short
from .sampling import Sample
from .session import Session

PARENT = "migrasafe.parent"


@dataclass
class Outcome:
    rule: str
    count: int  # offending rows found (in the sample, when there is one)
    example: str  # the primary key of one of them, and what is wrong with it
    problem: str  # "hold NULL in email"
    sample: Sample | None = None
    detail: str = ""  # what else the probe learnt: distinct values, groups, the error
    # The count is of rows probed one at a time; `probed` says how many were probed.
    probed: int | None = None
    at_least: bool = False  # the count is a lower bound: more rows may fail


def offending(session: Session, rows: Rows, sample: Sample | None, condition: str,
              shown: list[tuple[str, str]] = ()) -> tuple[int, list, list]:
    """How many rows meet `condition`, and the key and `shown` values of the first of them."""
    keys = rows.key_sql(rows.alias)
    extra = [sql for _, sql in shown]
    query = (f"SELECT count(*) OVER (), {', '.join(keys + extra)} FROM {rows.source(sample and sample.percent)} "
             f"WHERE {condition} ORDER BY {', '.join(keys)} LIMIT 1")
    found = session.query(query)
    if not found:
        return 0, [], []
    row = found[0]
    return int(row[0]), list(row[1:1 + len(keys)]), list(row[1 + len(keys):])


def example_of(rows: Rows, key: list, shown: list[tuple[str, str]], values: list) -> str:
    text = rows.key_text(key)
    if shown:
        text += " (" + ", ".join(f"{label} = {short(v)}" for (label, _), v in zip(shown, values)) + ")"
    return text


def column(rows: Rows, name: str) -> str:
    return f"{ident(rows.alias)}.{ident(name)}"


def not_null(session: Session, rows: Rows, sample: Sample | None, name: str, rule: str) -> Outcome | None:
    count, key, _ = offending(session, rows, sample, f"{column(rows, name)} IS NULL")
    if not count:
        return None
    return Outcome(rule, count, rows.key_text(key), f"hold NULL in {name}", sample)


def populated(session: Session, rows: Rows, sample: Sample | None, name: str) -> Outcome | None:
    """ADD COLUMN ... NOT NULL without a default: every row there is would hold NULL in it."""
    count, key, _ = offending(session, rows, sample, f"{column(rows, name)} IS NULL")
    if not count:
        return None
    return Outcome("MS067", count, rows.key_text(key), f"are in the table, and {name} would be NULL in each", sample)


def check(session: Session, rows: Rows, sample: Sample | None, condition: str, columns: list[str]) -> Outcome | None:
    """Rows for which the CHECK is false (NULL passes a CHECK, as in PostgreSQL)."""
    shown = [(c, column(rows, c)) for c in columns[:3]]
    count, key, values = offending(session, rows, sample, f"NOT ({condition})", shown)
    if not count:
        return None
    return Outcome("MS061", count, example_of(rows, key, shown, values), f"violate CHECK ({condition})", sample)


def orphans(session: Session, rows: Rows, sample: Sample | None, columns: list[str], parent_source: str | None,
            parent_columns: list[str], parent: str, match_full: bool) -> Outcome | None:
    """Rows whose key is not in the referenced table (`parent_source` None: the run creates it,
    so no row can be found there)."""
    child = [column(rows, c) for c in columns]
    if parent_source is None:
        missing = "true"
    else:
        pairs = " AND ".join(f"{ident(PARENT)}.{ident(p)} = {c}" for p, c in zip(parent_columns, child))
        missing = f"NOT EXISTS (SELECT 1 FROM {parent_source} WHERE {pairs})"
    all_set = " AND ".join(f"{c} IS NOT NULL" for c in child)
    if match_full and len(child) > 1:
        any_set = " OR ".join(f"{c} IS NOT NULL" for c in child)
        condition = f"(({any_set}) AND NOT ({all_set}) OR ({all_set}) AND {missing})"
    else:
        condition = f"({all_set}) AND {missing}"
    shown = list(zip(columns, child))
    count, key, values = offending(session, rows, sample, condition, shown)
    if not count:
        return None
    return Outcome("MS062", count, example_of(rows, key, shown, values),
                   f"reference rows missing from {parent}", sample)


def duplicates(session: Session, rows: Rows, sample: Sample | None, keys: list[tuple[str, str]],
               predicate: str | None, nulls_distinct: bool) -> Outcome | None:
    """Rows sharing their key with another row. NULLs are distinct unless NULLS NOT DISTINCT."""
    names = [f"migrasafe.k{i + 1}" for i in range(len(keys))]
    filters = [f"({predicate})"] if predicate else []
    if nulls_distinct:
        filters += [f"({sql}) IS NOT NULL" for _, sql in keys]
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    source = rows.source(sample and sample.percent)
    projected = ", ".join(f"({sql}) AS {ident(n)}" for (_, sql), n in zip(keys, names))
    grouped = ", ".join(ident(n) for n in names)
    keyed = f"SELECT {', '.join(rows.key_sql(rows.alias))}, {projected} FROM {source}{where}"
    found = session.query(
        f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM ({keyed}) AS d "
        f"GROUP BY {grouped} HAVING count(*) > 1) AS g")
    groups, count = (int(v) for v in found[0])
    if not groups:
        return None
    key_names = [ident(k) for k in rows.key_names]
    first = session.query(
        f"SELECT {', '.join(key_names)}, {grouped} FROM (SELECT *, count(*) OVER (PARTITION BY {grouped}) AS "
        f"{ident('migrasafe.n')} FROM ({keyed}) AS d) AS w WHERE {ident('migrasafe.n')} > 1 "
        f"ORDER BY {grouped}, {', '.join(key_names)} LIMIT 1")[0]
    shown = [(label, "") for label, _ in keys]
    example = example_of(rows, list(first[:len(key_names)]), shown, list(first[len(key_names):]))
    label = ", ".join(label for label, _ in keys)
    return Outcome("MS063", count, example, f"share their ({label}) with another row", sample,
                   detail=f"{groups:,} duplicated value{'s' if groups != 1 else ''}")


def key_nulls(session: Session, rows: Rows, sample: Sample | None, columns: list[str]) -> Outcome | None:
    condition = " OR ".join(f"{column(rows, c)} IS NULL" for c in columns)
    count, key, _ = offending(session, rows, sample, condition)
    if not count:
        return None
    return Outcome("MS064", count, rows.key_text(key), f"hold NULL in primary key column(s) {', '.join(columns)}",
                   sample)
