"""The generated lock-truth matrix: every statement family on every relation context, on every
PostgreSQL major, compared with the static model.

Each context is set up once per major and its cases observed in one batch (each in a transaction
that rolls back); the comparison is then one test per case and major. Compared: the relation
locks of the backend, the relations rewritten, whether the statement may run in a transaction
block, the relations it creates or drops and the tables whose columns it changes. A case a major
refuses is recorded in truth_matrix/rejected.tsv; its test checks that the server still refuses
it with the recorded SQLSTATE (see truth_matrix/rejections.py).
"""
from __future__ import annotations

import pytest

from truth_matrix.cases import Case, all_cases
from truth_matrix.contexts import CONTEXTS, BY_NAME
from truth_matrix import rejections
from truth_matrix.model import Claim, catalog_of, claim, relation_names
from truth_matrix.server import Seen, observe_context

CASES = all_cases()
REJECTED = rejections.load()


class Matrix:
    """Server observations, one batch per (major, context), made on first use."""

    def __init__(self):
        self._batches: dict[tuple[int, str], tuple[set[str], dict[str, Seen]]] = {}
        self._catalogs = {}

    def batch(self, server, context: str) -> tuple[set[str], dict[str, Seen]]:
        key = (server.major, context)
        if key not in self._batches:
            cases = [c for c in CASES if c.context == context]
            relations, seen = observe_context(server.uri, BY_NAME[context].setup, [c.sql for c in cases])
            self._batches[key] = relations, {c.id: s for c, s in zip(cases, seen)}
        return self._batches[key]

    def catalog(self, context: str):
        if context not in self._catalogs:
            self._catalogs[context] = catalog_of(BY_NAME[context].setup)
        return self._catalogs[context]


@pytest.fixture(scope="session")
def matrix() -> Matrix:
    return Matrix()


def disagreements(predicted: Claim, seen: Seen, model_before: set[str]) -> list[str]:
    observed = seen.observation
    problems = []
    if predicted.locks != observed.locks:
        problems.append(f"locks predicted {sorted(predicted.locks.items())}, observed {sorted(observed.locks.items())}")
    if predicted.rewrites != observed.rewrites:
        problems.append(f"rewrites predicted {sorted(predicted.rewrites)}, observed {sorted(observed.rewrites)}")
    if predicted.transactional != observed.transactional:
        problems.append(f"transactional predicted {predicted.transactional}, observed {observed.transactional}")
    if seen.relations_after is not None:
        for what, server, model in (
            ("dropped", seen.relations_before - seen.relations_after, model_before - predicted.relations_after),
            ("created", seen.relations_after - seen.relations_before, predicted.relations_after - model_before),
        ):
            if server != model:
                problems.append(f"relations {what}: predicted {sorted(model)}, observed {sorted(server)}")
    if seen.columns_changed is not None:
        server_cols = {t: sorted(c) for t, c in seen.columns_changed.items()}
        model_cols = {t: sorted(c) for t, c in predicted.columns_changed.items()}
        if server_cols != model_cols:
            problems.append(f"columns changed: predicted {model_cols}, observed {server_cols}")
    return problems


@pytest.mark.parametrize("context", CONTEXTS, ids=[c.name for c in CONTEXTS])
def test_catalog_matches_context(context, pg_server, matrix):
    """The catalog replayed from a context's setup holds the relations the server holds."""
    relations, _ = matrix.batch(pg_server, context.name)
    assert relation_names(matrix.catalog(context.name)) == relations


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_model_matches_server(case: Case, pg_server, matrix):
    _, seen_by_case = matrix.batch(pg_server, case.context)
    seen = seen_by_case[case.id]
    error, recorded = seen.observation.error, REJECTED.get((pg_server.major, case.id))
    if error is not None or recorded is not None:
        said = f"refuses it ({error})" if error else "runs it"
        assert error is not None and recorded == rejections.sqlstate_of(error), (
            f"pg{pg_server.major} {case.id}: {case.sql}\nrecorded as "
            f"{'refused with ' + recorded if recorded else 'run'}, the server {said}; "
            "re-record with: cd tests && python -m truth_matrix.rejections")
        return
    catalog = matrix.catalog(case.context)
    predicted = claim(catalog, case.sql, pg_server.major)
    problems = disagreements(predicted, seen, relation_names(catalog))
    assert not problems, f"pg{pg_server.major} {case.id}: {case.sql}\n" + "\n".join(problems)
