"""History integrity: what breaks a deploy before any SQL runs.

A migration can be safe to run and still stop the deploy, or never reach the databases that need
it, because of where it sits in its history: two Flyway scripts of one version, a new migration
numbered below one the base branch already shipped, a shipped migration edited in place, two
Alembic heads or two Django leaf migrations, a journal or plan entry without its file. These
checks read the histories as sources/ listed them (and, with `--since REF`, the base branch's
tree through git); they run no migration code and parse no SQL but to tell comments from
statements. What each tool does in each case is data, in tools.py, with its sources.

    check_histories(report, listed, config, selection)   # after the migrations were analysed

Rules MS050-MS057 (rules/), one module per concern:
flyway_versions.py (MS050), out_of_order.py (MS051), edited.py (MS052), alembic_heads.py (MS053,
MS054), django_leaves.py (MS055), listed_files.py (MS056, MS057); placing.py puts each finding
on its migration (or on the run) and applies suppressions (suppression.py).
"""
from __future__ import annotations


def check_histories(report, listed, config, selection) -> None:
    from .placing import run_checks

    run_checks(report, listed, config, selection)
