"""A cold run's analysis spread over the CPUs this process may use.

Each migration is judged against the catalog the migrations before it left, so the history is
cut into consecutive shares, one per process. The process of a later share first brings its
own catalog to the start of its share by applying the earlier migrations' DDL alone (no lock
model, no rules: about a third of the work of judging them, `catch_up.py`), then judges its
share. The shares are sized so that the processes finish together (`shares.py`).

Child processes are forked after the migrations were read, so they start with everything the
parent has loaded. Each sends its results back on a pipe of its own. A share inside one file
(analyse.splittable) starts at a statement outside a transaction, and the parts of the file are
put together and finished as one result. A share a child could not send, or a child that
failed, is judged again by the parent; so is everything after the parent's own share
when any process stopped on an internal error (MS088), because applying DDL alone is then not
the same as judging it. The results, and so the report, are the same as one process's:
tests/test_parallel.py compares them on every corpus case, split at every point.
"""
from __future__ import annotations

import os


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
