"""Read the live database's schema without changing anything on it."""
from __future__ import annotations

from dataclasses import dataclass

from ..snapshot import Snapshot, take_snapshot

DEFAULT_STATEMENT_TIMEOUT_MS = 30_000.0
ROLES = r"SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1"


class LiveError(Exception):
    """The live database could not be read; the message says why."""


@dataclass
class LiveDatabase:
    snapshot: Snapshot
    where: str  # "database shop on db.example.com:5432", never the password
    roles: list[str]  # the server's roles: migrations grant to them without creating them


def read_live(dsn: str, *, schemas=None, statement_timeout_ms: float = DEFAULT_STATEMENT_TIMEOUT_MS) -> LiveDatabase:
    """The live schema, read in one read-only transaction on a read-only session.

    Besides the snapshot's own catalog SELECTs and one of pg_roles, the session runs exactly:
    the two SETs, BEGIN READ ONLY and ROLLBACK.
    """
    import psycopg

    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=15, application_name="migrasafe drift")
    except psycopg.Error as err:
        raise LiveError(f"cannot connect to --dsn: {first_line(err)}") from None
    with conn:
        where = describe(conn)
        try:
            conn.execute("SET default_transaction_read_only = on")
            conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                snapshot = take_snapshot(conn, schemas=schemas)
                roles = [name for (name,) in conn.execute(ROLES).fetchall()]
            finally:
                if not conn.closed:
                    conn.execute("ROLLBACK")
        except psycopg.Error as err:
            raise LiveError(f"cannot read the schema of {where}: {first_line(err)}") from None
    return LiveDatabase(snapshot, where, roles)


def describe(conn) -> str:
    info = conn.info
    host = info.host or "localhost"
    place = host if host.startswith("/") else f"{host}:{info.port}"
    return f"database {info.dbname} on {place}"


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
