"""Does each tool run a migration file inside one transaction block?

Two facts decide it: whether the tool wraps the file (and how a file opts out), and how the
file reaches the server. psql and Flyway send statement after statement; golang-migrate,
dbmate, diesel and popx send an unwrapped file as ONE query string, and PostgreSQL runs a
multi-statement query string as one implicit transaction (so locks last until its end and
CREATE INDEX CONCURRENTLY fails there just as it does inside BEGIN ... COMMIT).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model import Statement


IMPLICIT = (
    "; it is sent as one multi-statement query, which PostgreSQL runs as a single implicit transaction"
)


@dataclass(frozen=True)
class Runner:
    """How a tool sends a migration file to the server: the facts its transaction follows from."""

    wraps: bool  # default: the tool opens a transaction around each file
    wrapped: str  # reason text when it does
    unwrapped: str  # reason text when it does not
    whole_file_query: bool  # unwrapped files reach the server as one multi-statement query
    # "file": each migration commits on its own; "run": the tool applies every pending migration
    # in one transaction, so locks taken by one are held while the next ones run.
    scope: str = "file"


@dataclass(frozen=True)
class Marker:
    """A per-file transaction choice written in the file or beside it (it beats the configuration)."""

    in_transaction: bool
    reason: str


@dataclass(frozen=True)
class Choice:
    in_transaction: bool
    reason: str
    implicit: bool = False  # the block comes from PostgreSQL's multi-statement rule, not a BEGIN
    # Runs of statements (first and last statement index, and a name for messages: "the
    # StatementBegin/StatementEnd block (lines 3-8)") that reach the server in one piece, in a
    # file whose other statements run on their own: each run is one implicit transaction.
    query_blocks: tuple[tuple[int, int, str], ...] = ()


def choose(fmt: str, runner: Runner, marker: Marker | None, statements: list[Statement],
           config_transaction: dict) -> Choice:
    if marker is not None:
        wraps, reason = marker.in_transaction, marker.reason
    elif fmt in config_transaction:
        wraps = config_transaction[fmt]
        reason = f"transaction.{fmt} = {str(wraps).lower()} in the configuration"
        if not wraps:
            # Turning it off in the configuration means the runner sends statements one by one
            # (golang-migrate's x-multi-statement), so no implicit block either.
            return Choice(False, reason)
    else:
        wraps = runner.wraps
        reason = runner.wrapped if wraps else runner.unwrapped
    if wraps:
        return Choice(True, reason)
    if runner.whole_file_query and len(statements) > 1:
        return Choice(True, reason + IMPLICIT, implicit=True)
    return Choice(False, reason)


def flyway_non_transactional(statement: Statement, pg_version: int) -> str | None:
    """What Flyway's PostgreSQL parser marks as non-transactional, named for messages; else None."""
    from .non_transactional import flyway_label  # pglast: only once statements are read

    return flyway_label(statement, pg_version)
