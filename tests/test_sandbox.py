"""The sandbox on its own, as any caller (Alembic revisions, and later other sources) uses it."""
from __future__ import annotations

import os
import sys

from migrasafe.sandbox import Limits, Sandbox

TASK = "sandbox_tasks:steps"


def test_results_cross_as_plain_data_from_another_process():
    with Sandbox() as sandbox:
        outcome = sandbox.run(TASK, {"steps": ["ok", "ok"]})
    assert outcome.failure is None
    assert [d["index"] for d in outcome.data] == [0, 1]
    assert {d["pid"] for d in outcome.data} != {os.getpid()}


def test_a_failure_names_its_step_and_line_and_keeps_what_came_before():
    with Sandbox() as sandbox:
        outcome = sandbox.run(TASK, {"steps": ["ok", "warn", "exit", "ok"]})
    assert [d["index"] for d in outcome.data] == [0]
    (warning,) = outcome.warnings
    assert (warning["key"], warning["line"], warning["category"]) == ("step:1", 16, "UserWarning")
    failure = outcome.failure
    assert (failure.kind, failure.step, failure.line) == ("exited", "step:2", 18)
    assert "os._exit(5)" in failure.message


def test_an_exception_out_of_a_step_is_that_steps_failure():
    with Sandbox() as sandbox:
        outcome = sandbox.run(TASK, {"steps": ["ok", "raise"]})
    assert (outcome.failure.kind, outcome.failure.step) == ("error", "step:1")
    assert "KeyboardInterrupt" in outcome.failure.message


def test_writes_outside_the_scratch_folder_are_refused_and_told(tmp_path):
    target = tmp_path / "nope.txt"
    with Sandbox() as sandbox:
        outcome = sandbox.run(TASK, {"steps": ["write"], "target": str(target)})
        scratch = sandbox.scratch
    assert not target.exists() and not os.path.exists(scratch)
    (refusal,) = outcome.refusals
    assert (refusal["key"], refusal["line"], refusal["kind"]) == ("step:0", 21, "file")
    assert "may not change files" in outcome.data[0]["refused"]
    if sys.platform.startswith("linux"):
        assert "audit" in outcome.layers


def test_the_run_limit_spans_children():
    sandbox = Sandbox(Limits(step_seconds=30, run_seconds=0))
    with sandbox:
        outcome = sandbox.run(TASK, {"steps": ["ok"]})
    assert outcome.failure.kind == "run-timeout" and outcome.data == []
    assert sandbox.children == 0
