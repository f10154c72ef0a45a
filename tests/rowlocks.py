"""Row locks a statement holds until commit, as a second session sees them on a real server.

The statement runs in an open transaction; another session then counts the table's rows it can
lock itself (`FOR UPDATE SKIP LOCKED` skips the rows locked by someone else). The difference is
the number of rows the statement holds locked: what every concurrent write to them waits for.
"""
from __future__ import annotations

from psycopg import sql as q

from pgtruth import connect, scratch_database


def rows_locked(uri: str, setup: list[str], statement: str, table: str) -> tuple[int, int]:
    """(rows of `table` locked by `statement` until commit, rows the table had before it)."""
    with scratch_database(uri) as scratch:
        with connect(scratch.conninfo) as conn:
            for text in setup:
                conn.execute(text)
        with connect(scratch.conninfo) as runner, connect(scratch.conninfo) as watcher:
            name = q.Identifier(*table.split("."))
            total = watcher.execute(q.SQL("SELECT count(*) FROM {}").format(name)).fetchone()[0]
            runner.execute("BEGIN")
            try:
                runner.execute(statement)
                watcher.execute("BEGIN")
                free = watcher.execute(q.SQL("SELECT count(*) FROM (SELECT 1 FROM {} FOR UPDATE SKIP LOCKED) AS r")
                                       .format(name)).fetchone()[0]
                watcher.execute("ROLLBACK")
            finally:
                runner.execute("ROLLBACK")
            return total - free, total
