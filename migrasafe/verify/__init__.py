"""`migrasafe verify`: upgrade → downgrade → upgrade round trips on a throwaway PostgreSQL.

    report = verify(paths, config, VerifyOptions(backend="embedded"))
    report.exit_code()   # 0 every round trip restores the schema, 1 one does not, 2 bad input

For every migration with a backward part (parts.py: down files, Down sections, Flyway undo,
sqitch revert, Alembic downgrade(), Django's backward SQL), on a server the replay starts
(replay/backends.py): apply it, snapshot the schema (migrasafe/snapshot), apply its backward part,
compare with the schema before it, apply it again and compare with its first result (runner.py).
Later migrations start from the schema the migration applied again left. trips.py chooses which
migrations get a round trip (--from, --to, --since); outcome.py words what was found, by object;
report.py renders it.
"""
from __future__ import annotations

from .command import VerifyError, VerifyOptions, verify

__all__ = ["VerifyError", "VerifyOptions", "verify"]
