"""Where the server's record of a statement differs from the static lock model (MS097).

Compared as the static report states things: per relation, schema-qualified, the strongest
mode; tables, partitioned tables, views, materialized views, sequences and foreign tables.
"""
from __future__ import annotations

from ..locks.modes import level
from ..model import AnalysedStatement
from .measure import StatementRun


def mismatches(analysed: AnalysedStatement, run: StatementRun) -> list[str]:
    if run.error is not None:
        return []  # it did nothing: there is nothing to compare
    problems = []
    if run.refused_in_transaction:
        problems.append("the model says it can run inside a transaction block; the server refused to")
    predicted = {lock.relation: lock.mode for lock in analysed.impact.locks}
    for relation in sorted(set(predicted) | set(run.locks)):
        model, seen = predicted.get(relation), run.locks.get(relation)
        # Inside a transaction a mode it already held is not acquired again, so cannot be seen.
        unseen_is_known = run.exact and model not in run.held_before.get(relation, set())
        if seen is None:
            if model is not None and unseen_is_known:
                problems.append(f"the model predicts {model} on {relation}; the server took no lock on it")
        elif model is None:
            problems.append(f"the server took {seen} on {relation}; the model predicts no lock on it")
        elif level(seen) > level(model):
            problems.append(f"the server took {seen} on {relation}; the model predicts {model}")
        elif level(seen) < level(model) and unseen_is_known:
            problems.append(f"the model predicts {model} on {relation}; the server took only {seen}")
    model_rewrites, seen_rewrites = set(analysed.impact.rewrites), set(run.rewrites)
    for relation in sorted(seen_rewrites - model_rewrites):
        problems.append(f"the server rewrote {relation} (new relfilenode); the model predicts no rewrite")
    for relation in sorted(model_rewrites - seen_rewrites):
        problems.append(f"the model predicts a rewrite of {relation}; its relfilenode did not change")
    return problems
