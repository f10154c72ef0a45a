"""The words of the data check's findings: what will fail, on how many rows, which row."""
from __future__ import annotations

from .probes import Outcome
from .rows import Rows
from .sampling import Sample

FIXES = {
    "MS060": "backfill the NULLs first (UPDATE in batches), then add NOT NULL; or keep the column nullable",
    "MS061": "fix or delete the rows that violate it first (UPDATE in batches), or add the constraint NOT VALID "
             "so that only new rows are checked",
    "MS062": "delete the orphans, point them at an existing row or set the column NULL first; or add the key "
             "NOT VALID so that only new rows are checked",
    "MS063": "remove or merge the duplicates first, then build the index (CONCURRENTLY)",
    "MS064": "give every row a key first: a primary key column cannot hold NULL",
    "MS065": "clean the values that do not convert first, or write a USING expression that maps them "
             "(a CASE for the bad ones)",
    "MS066": "move the rows off the removed values first (UPDATE in batches), or keep the value in the type",
    "MS067": "add the column with a DEFAULT, or nullable: backfill it, then SET NOT NULL",
}


def amount(outcome: Outcome) -> str:
    """"3 rows", or for a sample "about 4,100 rows (41 in a 1% TABLESAMPLE ... )"."""
    rows = "row" if outcome.count == 1 else "rows"
    if outcome.at_least:
        where = f" (in {outcome.sample.describe()})" if outcome.sample is not None else ""
        return f"at least {outcome.count:,} {rows}{where}"
    if outcome.probed is not None:
        where = f" of {outcome.sample.describe()}" if outcome.sample is not None else ""
        return f"{outcome.count:,} of {outcome.probed:,} rows probed{where}"
    if outcome.sample is None:
        return f"{outcome.count:,} {rows}"
    if outcome.rule == "MS063":  # a duplicate is seen only when both rows fall in the sample
        return f"at least {outcome.count:,} {rows} (found in {outcome.sample.describe()})"
    return f"about {outcome.sample.scaled(outcome.count):,} rows ({outcome.count:,} in {outcome.sample.describe()})"


SINGULAR = {"hold": "holds", "violate": "violates", "reference": "references", "share": "shares", "are": "is"}


def failure_message(what: str, outcome: Outcome) -> str:
    problem = outcome.problem
    if outcome.count == 1 and outcome.probed is None and (outcome.sample is None or outcome.at_least):
        verb, _, rest = problem.partition(" ")
        problem = f"{SINGULAR.get(verb, verb)} {rest}"
    text = f"{what} will fail on the data: {amount(outcome)} {problem}, e.g. {outcome.example}"
    if outcome.detail:
        text += f" ({outcome.detail})"
    return text


def caveats(rows: Rows) -> str:
    """What the rows view could not show, said after the prediction."""
    notes = []
    if rows.unmodelled:
        notes.append(f"line{'s' if len(rows.unmodelled) > 1 else ''} {', '.join(map(str, rows.unmodelled))} of the "
                     f"run change{'s' if len(rows.unmodelled) == 1 else ''} rows of {rows.info.name} in a way the "
                     "check cannot follow, so these rows may be fixed by then")
    if rows.inserted:
        notes.append(f"rows added at line{'s' if len(rows.inserted) > 1 else ''} {', '.join(map(str, rows.inserted))} "
                     "were not seen")
    return "; ".join(notes)


def sampled_clean(what: str, sample: Sample) -> str:
    return f"{what}: no offending row in {sample.describe()}; the pages outside it were not read"


def timed_out(what: str, seconds: float) -> str:
    return (f"{what}: the data check did not finish within {seconds:g}s (--data-timeout), so whether the rows "
            "let it succeed is not known")


def not_probed(what: str, why: str) -> str:
    return f"{what}: not checked against the data: {why}"
