"""Fuzzing `migrasafe check`: whatever the migrations hold, in every layout and every output
format, the run ends with a report its readers accept, never an internal error.

The budget here is small and the examples fixed (derandomized), so the test is quick and gives
the same verdict on every run; bench/fuzz.py runs the same inputs with a large budget.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_inputs import SHARED_CORPUS, corpus_statements, fuzz_once, project

FIXED = settings(max_examples=25, derandomize=True, deadline=None, database=None, print_blob=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.function_scoped_fixture])


@FIXED
@given(project(with_corpus=False))
def test_grammar_built_migrations_never_end_the_run(tmp_path, generated):
    layout, texts = generated
    fuzz_once(tmp_path, layout, texts)


@pytest.mark.skipif(not corpus_statements(), reason=f"shared corpus not present at {SHARED_CORPUS}")
@FIXED
@given(project(with_corpus=True))
def test_mutated_corpus_statements_never_end_the_run(tmp_path, generated):
    layout, texts = generated
    fuzz_once(tmp_path, layout, texts)


@pytest.mark.parametrize("layout", ["plain", "flyway", "golang-migrate", "dbmate", "diesel"])
def test_the_statements_fuzzing_found_are_checked_in_every_layout_and_format(tmp_path, layout):
    fuzz_once(tmp_path, layout, [
        "CREATE TABLE t (a int);\n",
        "ALTER TABLE t ENABLE ALWAYS RULE r, ADD CONSTRAINT c CHECK (a > 0);\n"
        "CREATE TABLE t1 PARTITION OF t1 DEFAULT; CREATE INDEX ON t1 (a);\n",
    ])
