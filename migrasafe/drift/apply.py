"""Apply the migrations, in order, on a throwaway database: the replay's statement runner, once
per statement, with no rows and no measurement."""
from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast

from ..model import Report
from ..replay.measure import Runner
from ..replay.run import DEFAULT_STATEMENT_TIMEOUT_MS, NON_UTC_TIMEZONE, load_schema_dumps


@dataclass(frozen=True)
class Failure:
    """A statement the throwaway server refused: the schema it builds is not the migrations' own."""

    path: str
    line: int
    statement: str  # its first line
    error: str  # the server's, "42P07: relation \"t\" already exists"

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "statement": self.statement, "error": self.error}


@dataclass
class Applied:
    migrations: int = 0
    statements: int = 0
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what else kept the schema from being complete
    roles: list[str] = field(default_factory=list)  # the live server's roles made on the throwaway server first


def apply_migrations(conninfo: str, report: Report, config, roles: list[str] = ()) -> Applied:
    """Every migration of the report (the earlier ones read for context too), in the report's order.

    `roles` (the live server's) are made first, but for those the migrations create: roles are
    the server's, and migrations grant to them without creating them.
    """
    import psycopg

    applied = Applied()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        applied.roles = make_roles(conn, sorted(set(roles) - created_roles(report)))
        load_schema_dumps(conn, config, applied)
    timezone = "UTC" if config.timezone_utc else NON_UTC_TIMEZONE
    for result in report.results:
        runner = Runner(conninfo, timezone=timezone, guard_ms=DEFAULT_STATEMENT_TIMEOUT_MS, deadline=None)
        conn = runner.open()
        try:
            run = runner.run(result, None)
        finally:
            conn.close()
        applied.migrations += 1
        statements = {a.statement.index: a.statement for a in result.statements}
        for statement_run in run.runs:
            applied.statements += 1
            if statement_run.error is None:
                continue
            statement = statements[statement_run.index]
            applied.failures.append(Failure(
                path=statement.origin_path or result.migration.path, line=statement.line,
                statement=statement.sql.strip().splitlines()[0][:120], error=statement_run.error))
    return applied


def created_roles(report: Report) -> set[str]:
    return {a.statement.node.role for r in report.results for a in r.statements
            if isinstance(a.statement.node, (ast.CreateRoleStmt,))}


def make_roles(conn, roles: list[str]) -> list[str]:
    from psycopg import sql

    existing = {name for (name,) in conn.execute("SELECT rolname FROM pg_roles")}
    made = []
    for role in roles:
        if role not in existing:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            made.append(role)
    return made
