"""The connection `op.get_bind()` returns while a revision is rendered offline.

Statements executed on it are rendered like `op.execute` ones (that is what Alembic would send);
`commit()` becomes COMMIT and the BEGIN SQLAlchemy starts again on the next statement. A result
has no rows: a loop over one runs zero times (and is reported), and a single value read from
one stops the rendering, because any SQL built from it would be a guess.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.engine.mock import MockConnection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import TextClause


class NeedsDatabase(Exception):
    """The revision asked for something only a live database knows."""


class OfflineBind(MockConnection):
    def __init__(self, dialect, run: Callable[[Any], None], output: Callable[[str], None],
                 rows_unknown: Callable[[], None]):
        super().__init__(dialect, lambda *args, **kwargs: None)
        self._run = run  # the migration context's own rendering of a statement
        self._output = output  # raw SQL text, rendered as is
        self._rows_unknown = rows_unknown

    def execute(self, statement, parameters=None, execution_options=None):
        for bound in _with_parameters(statement, parameters):
            self._run(bound)
        return OfflineResult(self._rows_unknown)

    def exec_driver_sql(self, statement: str, parameters=None, execution_options=None):
        self._output(statement.strip().rstrip(";") + ";")
        return OfflineResult(self._rows_unknown)

    def scalar(self, statement, parameters=None, execution_options=None):
        self.execute(statement, parameters)
        raise NeedsDatabase("this line reads a value from the database, which an offline rendering does not have")

    def scalars(self, statement, parameters=None, execution_options=None):
        return self.execute(statement, parameters).scalars()

    def commit(self) -> None:
        self._output("COMMIT;")
        self._output("BEGIN;")

    def rollback(self) -> None:
        self._output("ROLLBACK;")
        self._output("BEGIN;")

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        raise AttributeError(f"op.get_bind().{name} needs a live database connection")


class OfflineResult:
    """A result without rows."""

    def __init__(self, rows_unknown: Callable[[], None]):
        self._rows_unknown = rows_unknown

    def _no_rows(self) -> list:
        self._rows_unknown()
        return []

    def __iter__(self):
        return iter(self._no_rows())

    def fetchall(self):
        return self._no_rows()

    def fetchmany(self, size=None):
        return self._no_rows()

    def all(self):
        return self._no_rows()

    def partitions(self, size=None):
        return iter(self._no_rows())

    def scalars(self, index=0):
        return self

    def mappings(self):
        return self

    def columns(self, *columns):
        return self

    def unique(self, strategy=None):
        return self

    def yield_per(self, num):
        return self

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        # first(), one(), scalar(), rowcount, ...: a value the code goes on to use.
        raise NeedsDatabase(f"this line reads the result of a query (.{name}) from the database, "
                            f"which an offline rendering does not have")


def _with_parameters(statement, parameters) -> list:
    if isinstance(statement, str):
        statement = text(statement)
    if not parameters:
        return [statement]
    rows = parameters if isinstance(parameters, (list, tuple)) else [parameters]
    if isinstance(statement, TextClause):
        return [statement.bindparams(**row) for row in rows]
    if isinstance(statement, Insert):
        return [statement.values(**row) for row in rows]
    return [statement.params(row) for row in rows]
