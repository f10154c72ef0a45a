"""The generated lock-truth matrix: every statement family on every relation context, on every
PostgreSQL major, compared with the static model.

Each context is set up once per major and its cases observed in one batch (each in a transaction
that rolls back); the comparison is then one test per case and major. Compared: the relation
locks of the backend, the relations rewritten, whether the statement may run in a transaction
block, the relations it creates or drops and the tables whose columns it changes. A case a major
refuses is recorded in truth_matrix/rejected.tsv; its test checks that the server still refuses
it with the recorded SQLSTATE (see truth_matrix/rejections.py), and, when a later major runs it,
that migrasafe reports it as unsupported on the refusing major (MS005). Every case name is
compared with the model on some major, but for the few whose refusal is what they test.
"""
from __future__ import annotations

import pytest
from pglast.parser import parse_sql

from migrasafe.locks import impact
from migrasafe.replay.servers import SUPPORTED_MAJORS
from migrasafe.rules.syntax_versions import missing_syntax
from truth_matrix.cases import Case, all_cases
from truth_matrix.contexts import CONTEXTS, BY_NAME
from truth_matrix import rejections
from truth_matrix.model import Claim, catalog_of, claim, relation_names
from truth_matrix.server import Seen, observe_context

CASES = all_cases()
REJECTED = rejections.load()

# The cases refused on every major because the refusal is the behaviour they test, with the
# SQLSTATE(s) they are refused with; each has a sibling that runs. Nothing else may be refused
# everywhere (test_every_case_is_compared).
REFUSED_BY_DESIGN = {
    # A second DEFAULT partition conflicts with t_def (create_partition_of runs).
    "create_second_default": {"42P17"},
    # An inheritance parent with a child is not dropped without CASCADE (drop_parent_cascade runs).
    "drop_parent": {"2BP01"},
    # An owned sequence moves with its table only (sequence_set_schema runs on a free one).
    "owned_sequence_set_schema": {"0A000"},
    # A partition cannot have columns of its own (add_column runs on the partitioned table).
    "partition_add_column": {"42809"},
    # No DETACH ... CONCURRENTLY while a default partition exists, 55000 (from 14; 42601 before,
    # the syntax is new in 14); detach_partition_concurrently_without_default runs.
    "detach_partition_concurrently": {"55000", "42601"},
}


def unsupported_on(sql: str, catalog, major: int) -> str | None:
    """Why migrasafe reports this statement as unsupported on `major` (MS005), or None: the
    lock model's note or the syntax the major lacks, as the rule reads them."""
    node = parse_sql(sql)[0].stmt
    return impact(node, catalog.copy(), pg_version=major).notes.get("unsupported") or missing_syntax(node, major)


def runs_on_a_later_major(case: Case, major: int) -> bool:
    return any((later, case.id) not in REJECTED for later in SUPPORTED_MAJORS if later > major)


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
        if runs_on_a_later_major(case, pg_server.major):
            # Refused here, run by a newer major: the syntax or feature is new, and migrasafe
            # configured for this major must say so.
            assert unsupported_on(case.sql, matrix.catalog(case.context), pg_server.major), (
                f"pg{pg_server.major} {case.id}: {case.sql}\nthe server refuses it ({error}) and a later "
                f"major runs it, but migrasafe --pg-version {pg_server.major} does not report it as unsupported (MS005)")
        return
    catalog = matrix.catalog(case.context)
    predicted = claim(catalog, case.sql, pg_server.major)
    problems = disagreements(predicted, seen, relation_names(catalog))
    reason = unsupported_on(case.sql, catalog, pg_server.major)
    if reason:
        problems.append(f"reported as unsupported on {pg_server.major} ({reason}), but the server runs it")
    assert not problems, f"pg{pg_server.major} {case.id}: {case.sql}\n" + "\n".join(problems)


def test_every_case_is_compared():
    """Every case name of the families is compared with the model on some major: a case that
    every major refuses checks nothing about the model, unless its refusal is what it tests."""
    names: dict[str, list[Case]] = {}
    for case in CASES:
        names.setdefault(case.name, []).append(case)
    never = {}
    for name, cases in names.items():
        refusals = [REJECTED.get((major, c.id)) for c in cases for major in SUPPORTED_MAJORS]
        if all(refusals):
            never[name] = set(refusals)
    unexpected = {n: sorted(s) for n, s in never.items() if n not in REFUSED_BY_DESIGN}
    assert not unexpected, f"refused on every major, so never compared with the model: {unexpected}"
    stale = {n: sorted(never.get(n, ())) for n, states in REFUSED_BY_DESIGN.items() if never.get(n) != states}
    assert not stale, ("REFUSED_BY_DESIGN lists cases that now run on some major, or are refused with "
                       f"other SQLSTATEs (refused with): {stale}")
