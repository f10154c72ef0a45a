"""Run code migrasafe does not own (Alembic revisions, and the like) in a confined child process.

    from migrasafe.sandbox import Limits, Sandbox

    with Sandbox(Limits(step_seconds=30, run_seconds=600)) as sandbox:
        outcome = sandbox.run("migrasafe.sources.alembic.worker:work", payload)
    outcome.data       # the plain-data results the function sent, in order
    outcome.failure    # None, or why the child ended early: which step, which line

The function runs as `function(payload, channel)` in a new Python process, and reports through
`channel.send(dict)`; each unit of work runs inside `with channel.step(key, file):`, which gives
it its own time limit and ties warnings and refused actions to it (with the line of `file` the
code was at). Only JSON crosses between the processes, never a pickled object.

Before the function's module is imported nothing is confined; before the function runs, the child
cannot use the network, change files outside a scratch folder (its working directory and TMPDIR),
start processes or signal other processes: an audit hook refuses each with a message
(guard.py), and on Linux Landlock and seccomp refuse what C code would do (kernel.py).

    runner.py  the parent's side: the child's process, its time limits, what it told
    child.py   the child's side: confinement, the channel
    guard.py   the audit hook's rules
    kernel.py  Landlock and seccomp
"""
from __future__ import annotations

from .guard import Refused
from .runner import Failure, Limits, Outcome, Sandbox

__all__ = ["Failure", "Limits", "Outcome", "Refused", "Sandbox"]
