"""Ground truth from a real server: which relation locks and rewrites each statement causes.

``observe`` replays ``setup`` and then ``statements`` in a scratch database and, for every
statement, records what PostgreSQL itself reports in ``pg_locks`` and ``pg_class.relfilenode``.
Only relations that existed before the statement count, so a table a statement creates never
shows up as "locked" by it.

Statements that may run in a transaction block are observed inside ``BEGIN ... ROLLBACK`` on the
connection itself. Those that may not (CREATE INDEX CONCURRENTLY, VACUUM, ...) run in autocommit
on a copy of the database while a second connection polls their locks; a chain of blocker
transactions makes them pause at each wait so that the locks they hold (or queue for) at that
moment are seen, instead of depending on how fast the poll happens to be. ``locks`` (the
strongest mode per relation) is therefore stable; ``all_modes`` of such a statement may also
include weaker locks it held only between pauses, when a poll happened to catch them.

Server-wide objects (databases, roles, tablespaces) are not confined to the scratch database:
a statement that creates one leaves it behind.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterator

import psycopg
from pglast import ast
from pglast.parser import ParseError, parse_sql
from psycopg import sql as q
from psycopg.conninfo import make_conninfo

LOCK_LEVELS = {
    "AccessShareLock": 1,
    "RowShareLock": 2,
    "RowExclusiveLock": 3,
    "ShareUpdateExclusiveLock": 4,
    "ShareLock": 5,
    "ShareRowExclusiveLock": 6,
    "ExclusiveLock": 7,
    "AccessExclusiveLock": 8,
}
OBSERVED_KINDS = {"r", "p", "v", "m", "S", "f"}  # tables, partitioned, views, matviews, sequences, foreign
REWRITABLE_KINDS = {"r", "m"}
LOCKABLE_KINDS = {"r", "p"}

STATEMENT_TIMEOUT = "30s"
LOCK_TIMEOUT = "10s"
WAIT_FOR_BLOCK_SECONDS = 5.0  # below LOCK_TIMEOUT, so a statement queued behind a blocker never times out
RUN_DEADLINE_SECONDS = 40.0
CANCEL_GRACE_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.002
MAX_BLOCKERS = 6

SNAPSHOT_SQL = r"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
"""
PROGRESS_SQL = """
SELECT pg_blocking_pids(%s),
       (SELECT relid FROM pg_stat_progress_vacuum WHERE pid = %s AND phase = 'truncating heap')
"""
LOCKS_SQL = """
SELECT relation, mode FROM pg_locks
WHERE pid = %s AND locktype = 'relation'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


@dataclass
class Observation:
    sql: str
    locks: dict[str, str] = field(default_factory=dict)  # relation -> strongest mode
    all_modes: dict[str, set[str]] = field(default_factory=dict)
    rewrites: set[str] = field(default_factory=set)
    error: str | None = None
    transactional: bool = True

    def add_lock(self, relation: str, mode: str) -> None:
        self.all_modes.setdefault(relation, set()).add(mode)
        self.locks[relation] = max(self.all_modes[relation], key=lambda m: LOCK_LEVELS.get(m, 0))

    def fail(self, error: str) -> None:
        """A statement that errors is recorded as having done nothing."""
        self.error = error
        self.locks.clear()
        self.all_modes.clear()
        self.rewrites.clear()


@dataclass(frozen=True)
class Relation:
    schema: str
    relname: str
    kind: str
    filenode: int

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.relname}"


def observe(uri: str, setup: list[str], statements: list[str], *, timezone: str | None = None) -> list[Observation]:
    """Observe each of ``statements`` in turn, each one seeing the committed effects of the earlier
    ones and the session settings (SET TimeZone, ...) they made, as on one migration connection."""
    session = [q.SQL("SET TimeZone = {}").format(q.Literal(timezone))] if timezone is not None else []
    with scratch_database(uri) as scratch:
        with connect(scratch.conninfo, session) as conn:
            for statement in setup:
                try:
                    conn.execute(statement)
                except psycopg.Error as exc:
                    raise RuntimeError(f"setup statement failed: {statement!r}: {describe(exc)}") from exc
        observations = []
        for statement in statements:
            observation = observe_statement(scratch, statement, session)
            if sets_session(statement):
                session = [*session, statement]
            with connect(scratch.conninfo, session) as conn:
                try:
                    conn.execute(statement)
                except psycopg.errors.NoActiveSqlTransaction:
                    pass  # LOCK TABLE outside a transaction: it would have changed nothing
                except psycopg.Error as exc:
                    if observation.error is None:
                        observation.error = f"when committed: {describe(exc)}"
            observations.append(observation)
        return observations


# ---------------------------------------------------------------- databases and connections


class ScratchDatabase:
    def __init__(self, admin: psycopg.Connection, server_uri: str, name: str):
        self.admin, self.server_uri, self.name = admin, server_uri, name

    @property
    def conninfo(self) -> str:
        return make_conninfo(self.server_uri, dbname=self.name)

    @contextlib.contextmanager
    def copy(self) -> Iterator[str]:
        """A copy of this database as it is now (nobody may be connected to it meanwhile)."""
        name = f"{self.name}_copy"
        self.admin.execute(q.SQL("CREATE DATABASE {} TEMPLATE {}").format(q.Identifier(name), q.Identifier(self.name)))
        try:
            yield make_conninfo(self.server_uri, dbname=name)
        finally:
            drop_database(self.admin, name)


@contextlib.contextmanager
def scratch_database(uri: str) -> Iterator[ScratchDatabase]:
    """An empty database: a used one emptied again when that leaves it as a new one would be,
    else a new one. Copying template0 costs a few hundred milliseconds, emptying a few."""
    with psycopg.connect(uri, autocommit=True) as admin:
        name = _reused_database(admin, uri)
        if name is None:
            name = f"pgtruth_{uuid.uuid4().hex[:12]}"
            admin.execute(q.SQL("CREATE DATABASE {} TEMPLATE template0").format(q.Identifier(name)))
            if uri not in _FRESH:
                with psycopg.connect(make_conninfo(uri, dbname=name), autocommit=True) as conn:
                    _FRESH[uri] = _fingerprint(conn)
        try:
            yield ScratchDatabase(admin, uri, name)
        except BaseException:
            drop_database(admin, name)
            raise
        else:
            _IDLE.setdefault(uri, []).append(name)


# What a new database holds, per server, and the used databases waiting to be emptied for reuse
# (per process: each xdist worker keeps its own, under names no other process uses).
_FRESH: dict[str, tuple] = {}
_IDLE: dict[str, list[str]] = {}

# Counts of every catalog a migration can add to, and the public schema as template0 has it.
FINGERPRINT_SQL = """
SELECT (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_type), (SELECT count(*) FROM pg_proc),
       (SELECT count(*) FROM pg_namespace), (SELECT count(*) FROM pg_cast), (SELECT count(*) FROM pg_extension),
       (SELECT count(*) FROM pg_event_trigger), (SELECT count(*) FROM pg_publication),
       (SELECT count(*) FROM pg_foreign_data_wrapper), (SELECT count(*) FROM pg_foreign_server),
       (SELECT count(*) FROM pg_default_acl), (SELECT count(*) FROM pg_language),
       (SELECT count(*) FROM pg_largeobject_metadata), (SELECT count(*) FROM pg_operator),
       (SELECT count(*) FROM pg_opfamily), (SELECT count(*) FROM pg_collation), (SELECT count(*) FROM pg_ts_config),
       (SELECT count(*) FROM pg_conversion), (SELECT count(*) FROM pg_transform), (SELECT count(*) FROM pg_policy),
       (SELECT count(*) FROM pg_trigger), (SELECT count(*) FROM pg_rewrite), (SELECT count(*) FROM pg_description),
       (SELECT count(*) FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
       (SELECT pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'public'),
       (SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'public'),
       (SELECT datacl::text FROM pg_database WHERE datname = current_database())
"""

EMPTY_SQL = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT evtname FROM pg_event_trigger LOOP
        EXECUTE format('DROP EVENT TRIGGER %I', r.evtname);
    END LOOP;
    FOR r IN SELECT pubname FROM pg_publication LOOP
        EXECUTE format('DROP PUBLICATION %I', r.pubname);
    END LOOP;
    FOR r IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema')
               AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
    END LOOP;
    FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
        EXECUTE format('DROP EXTENSION %I CASCADE', r.extname);
    END LOOP;
END
$$;
"""


def _reused_database(admin: psycopg.Connection, uri: str) -> str | None:
    idle = _IDLE.get(uri, [])
    while idle:
        name = idle.pop()
        try:
            if _empty(admin, uri, name):
                return name
        except psycopg.Error:
            pass
        drop_database(admin, name)
    return None


def _empty(admin: psycopg.Connection, uri: str, name: str) -> bool:
    """Empty a used database; True when it then holds exactly what a new one holds."""
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                  [name])
    admin.execute(q.SQL("ALTER DATABASE {} RESET ALL").format(q.Identifier(name)))
    with psycopg.connect(make_conninfo(uri, dbname=name), autocommit=True) as conn:
        owner, _, acl = _FRESH[uri][-3].partition(" ")
        conn.execute(EMPTY_SQL)
        conn.execute(q.SQL("CREATE SCHEMA public AUTHORIZATION {}").format(q.Identifier(owner)))
        conn.execute("UPDATE pg_namespace SET nspacl = %s::aclitem[] WHERE nspname = 'public'", [acl or None])
        comment = _FRESH[uri][-2]
        if comment is not None:
            conn.execute(q.SQL("COMMENT ON SCHEMA public IS {}").format(q.Literal(comment)))
        return _fingerprint(conn) == _FRESH[uri]


def _fingerprint(conn: psycopg.Connection) -> tuple:
    return tuple(conn.execute(FINGERPRINT_SQL).fetchone())


def drop_database(admin: psycopg.Connection, name: str) -> None:
    # WITH (FORCE) exists only from PostgreSQL 13; terminating the sessions works everywhere.
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
    admin.execute(q.SQL("DROP DATABASE IF EXISTS {}").format(q.Identifier(name)))


def connect(conninfo: str, session=()) -> psycopg.Connection:
    """A connection with the harness's guards, then `session`: the settings a migration's
    connection would have at this point."""
    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    conn.execute("SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                 [STATEMENT_TIMEOUT, LOCK_TIMEOUT])
    for statement in session:
        conn.execute(statement)
    return conn


def sets_session(statement: str) -> bool:
    """A SET (not SET LOCAL) of anything but the harness's own guards, which stay in force."""
    try:
        node = parse_sql(statement)[0].stmt
    except ParseError:
        return False  # the server rejects it too (the case's server_rejects says so)
    return (isinstance(node, ast.VariableSetStmt) and not node.is_local
            and (node.name or "").lower() not in ("statement_timeout", "lock_timeout"))


def describe(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    return f"{exc.sqlstate}: {message}" if exc.sqlstate else message


def snapshot(conn: psycopg.Connection) -> dict[int, Relation]:
    return {oid: Relation(schema, relname, kind, filenode)
            for oid, schema, relname, kind, filenode in conn.execute(SNAPSHOT_SQL).fetchall()
            if kind in OBSERVED_KINDS}


def record_locks(observation: Observation, before: dict[int, Relation], rows) -> None:
    for oid, mode in rows:
        if oid in before:
            observation.add_lock(before[oid].name, mode)


def record_rewrites(observation: Observation, before: dict[int, Relation], after: dict[int, Relation]) -> None:
    for oid, relation in before.items():
        if relation.kind in REWRITABLE_KINDS and oid in after and after[oid].filenode != relation.filenode:
            observation.rewrites.add(relation.name)


# ---------------------------------------------------------------- one statement


def observe_statement(scratch: ScratchDatabase, statement: str, session) -> Observation:
    with connect(scratch.conninfo, session) as conn:
        observation = observe_in_transaction(conn, statement)
    if observation is not None:
        return observation
    observation = Observation(sql=statement, transactional=False)
    # A blocker in ROW EXCLUSIVE makes commands that wait for older transactions pause while
    # holding their locks. A command that never waits (plain VACUUM) is retried on a fresh copy
    # against SHARE UPDATE EXCLUSIVE, so that its own lock request queues visibly.
    for blocker_mode in ("ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"):
        with scratch.copy() as conninfo:
            waited = ConcurrentRun(conninfo, statement, session, blocker_mode).observe_into(observation)
        if waited or observation.error is not None:
            break
    return observation


def observe_in_transaction(conn: psycopg.Connection, statement: str) -> Observation | None:
    """Observe inside BEGIN ... ROLLBACK; None when PostgreSQL refuses to run it in a transaction block."""
    observation = Observation(sql=statement)
    conn.execute("BEGIN")
    try:
        before = snapshot(conn)
        try:
            conn.execute(statement)
        except psycopg.errors.ActiveSqlTransaction:
            return None
        except psycopg.Error as exc:
            observation.fail(describe(exc))
            return observation
        record_locks(observation, before, conn.execute(LOCKS_SQL, [conn.info.backend_pid]).fetchall())
        record_rewrites(observation, before, snapshot(conn))
        return observation
    finally:
        conn.execute("ROLLBACK")


class ConcurrentRun:
    """Runs one statement in autocommit while another connection watches its locks."""

    def __init__(self, conninfo: str, statement: str, session, blocker_mode: str):
        self.conninfo, self.statement, self.session = conninfo, statement, session
        self.blocker_mode = blocker_mode
        self.error: str | None = None

    def observe_into(self, observation: Observation) -> bool:
        """Add what the statement did to ``observation``; tell whether it ever waited on a blocker."""
        with contextlib.ExitStack() as stack:
            watcher = stack.enter_context(connect(self.conninfo))
            runner = stack.enter_context(connect(self.conninfo, self.session))
            before = snapshot(watcher)
            tables = [r for r in before.values() if r.kind in LOCKABLE_KINDS]
            blockers = [stack.enter_context(self.open_blocker(tables, self.blocker_mode, keep_snapshot=True))]
            # Read before the thread starts: the runner connection then belongs to that thread.
            pid = runner.info.backend_pid
            worker = threading.Thread(target=self.run, args=(runner,), daemon=True)
            worker.start()
            # Runs first on the way out, so no connection closes under a statement still running.
            stack.callback(self.stop, runner, worker)
            waited = self.watch(watcher, runner, pid, worker, before, observation, blockers, tables, stack)
            after = snapshot(watcher)
        if self.error is not None:
            observation.fail(self.error)
        else:
            record_rewrites(observation, before, after)
        return waited

    def run(self, runner: psycopg.Connection) -> None:
        try:
            runner.execute(self.statement)
        except psycopg.Error as exc:
            self.error = self.error or describe(exc)
        except Exception as exc:  # surfaces in the observation rather than dying silently in the thread
            self.error = self.error or f"{type(exc).__name__}: {exc}"

    def stop(self, runner: psycopg.Connection, worker: threading.Thread) -> None:
        if worker.is_alive():
            runner.cancel()
            worker.join(CANCEL_GRACE_SECONDS)
        if worker.is_alive():
            self.error = self.error or "did not finish after being cancelled"

    def watch(self, watcher, runner, pid, worker, before, observation, blockers, tables, stack) -> bool:
        started = time.monotonic()
        waited = False
        while worker.is_alive():
            elapsed = time.monotonic() - started
            blocking, truncating = watcher.execute(PROGRESS_SQL, [pid, pid]).fetchone()
            blocking = blocking or []
            record_locks(observation, before, watcher.execute(LOCKS_SQL, [pid]).fetchall())
            current = blockers[-1]
            if truncating in before:
                # VACUUM cuts empty pages off a table's end under ACCESS EXCLUSIVE, asked for
                # conditionally: against a blocker it retries for 5 s and gives up, never showing
                # in pg_locks. Its progress phase tells; record the request and let it through.
                observation.add_lock(before[truncating].name, "AccessExclusiveLock")
                follow_up = None
            elif current is not None and current.info.backend_pid in blocking:
                waited = True
                # Hold ACCESS SHARE before letting the statement go on: it conflicts only with
                # ACCESS EXCLUSIVE, so an exclusive later phase queues where the poll sees it.
                follow_up = (stack.enter_context(self.open_blocker(tables, "ACCESS SHARE", keep_snapshot=False))
                             if len(blockers) < MAX_BLOCKERS else None)
            elif current is not None and elapsed > WAIT_FOR_BLOCK_SECONDS:
                follow_up = None
            else:
                current = None
            if current is not None:
                blockers.append(follow_up)
                current.execute("COMMIT")
            if elapsed > RUN_DEADLINE_SECONDS:
                self.error = f"did not finish within {RUN_DEADLINE_SECONDS:.0f}s"
                self.stop(runner, worker)
                break
            time.sleep(POLL_INTERVAL_SECONDS)
        for blocker in blockers:
            if blocker is not None and blocker.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                blocker.execute("COMMIT")
        return waited

    @contextlib.contextmanager
    def open_blocker(self, tables: list[Relation], mode: str, *, keep_snapshot: bool) -> Iterator[psycopg.Connection]:
        with connect(self.conninfo) as blocker:
            blocker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if keep_snapshot else "BEGIN")
            for table in tables:
                lock = q.SQL("LOCK TABLE {} IN {} MODE").format(q.Identifier(table.schema, table.relname), q.SQL(mode))
                if keep_snapshot:
                    blocker.execute(lock)
                    continue
                # The statement may already hold ACCESS EXCLUSIVE on some table: skip that one.
                blocker.execute("SAVEPOINT try_lock")
                try:
                    blocker.execute(lock + q.SQL(" NOWAIT"))
                    blocker.execute("RELEASE SAVEPOINT try_lock")
                except psycopg.errors.LockNotAvailable:
                    blocker.execute("ROLLBACK TO SAVEPOINT try_lock")
            if keep_snapshot:
                # An xid and a snapshot make this an "older transaction" that concurrent commands wait for.
                blocker.execute("SELECT txid_current()")
            yield blocker
