"""Apply one migration part (forward, backward or a sqitch verify script) on a verify database.

The statements run through the replay's runner (replay/measure.py) on a new session, as each
file gets from its tool: inside one transaction when the tool wraps the file, statement by
statement otherwise, and a statement that cannot run in a transaction block (CREATE INDEX
CONCURRENTLY) outside one. The first statement that fails ends the part, and the transaction it
was in is rolled back, as the tool does. Which statements those are comes from the lock model, so each part is
analysed first against a schema model that follows the parts in the order they run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Catalog
from ..config import Config
from ..model import Migration, Report
from ..selection import RuleSelection

DEFAULT_STATEMENT_TIMEOUT_MS = 600_000.0


@dataclass
class Failure:
    """The first statement of a part that the server refused."""

    error: str  # the server's, "42P07: relation "t_a_idx" already exists"
    path: str
    line: int
    sql: str


@dataclass
class Applied:
    failure: Failure | None = None
    not_run: list[str] = field(default_factory=list)  # statements refused on a --dsn server (replay/outside.py): what they do


class Applier:
    """Applies parts on one database, keeping the schema model in step with it."""

    def __init__(self, conninfo: str, config: Config, *, local_server: bool, refuse=None,
                 statement_timeout_ms: float = DEFAULT_STATEMENT_TIMEOUT_MS):
        from ..check import seed_catalog

        self.conninfo = conninfo
        self.config = config
        self.selection = RuleSelection(config)
        self.local_server = local_server
        self.refuse = refuse
        self.statement_timeout_ms = statement_timeout_ms
        self.base: Catalog = seed_catalog(config, Report(pg_version=config.pg_version), self.selection)
        self.catalog = self.base.copy()

    def restart(self, conninfo: str, catalog: Catalog | None = None) -> None:
        """Another database: empty, or a copy of one whose model was `catalog`."""
        self.conninfo = conninfo
        self.catalog = (catalog or self.base).copy()

    def apply(self, migration: Migration) -> Applied:
        from ..check import analyse
        from ..replay.measure import Runner

        result = analyse(migration, self.catalog, self.config, self.selection, None)
        runner = Runner(self.conninfo, timezone="UTC", guard_ms=self.statement_timeout_ms, deadline=None,
                        repeat=1, local_server=self.local_server, refuse=self.refuse, stop_on_error=True,
                        measure=False)
        conn = runner.open()
        try:
            run = runner.run(result, None)
        finally:
            conn.close()
        applied = Applied(not_run=[f"line {_statement(migration, i).line}: {what}" for i, what in run.not_run.items()])
        failed = next((r for r in run.runs if r.error is not None), None)
        if failed is not None:
            statement = _statement(migration, failed.index)
            applied.failure = Failure(failed.error, statement.origin_path or migration.path, statement.line,
                                      " ".join(statement.sql.split()))
        return applied


def _statement(migration: Migration, index: int):
    return next(s for s in migration.statements if s.index == index)
