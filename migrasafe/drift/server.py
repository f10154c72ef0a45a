"""The throwaway server the migrations are applied on: the live server's major when installed."""
from __future__ import annotations

import contextlib
from typing import Iterator

from ..replay.backends import Server, describe_server, open_backend
from ..replay.servers import SUPPORTED_MAJORS, available_servers, embedded_bindir, server_major, start


@contextlib.contextmanager
def throwaway_server(live_major: int, live_version: str) -> Iterator[tuple[Server, str]]:
    """A started server and a sentence saying which major it is and why."""
    wheel = embedded_bindir()
    wheel_major = server_major(wheel) if wheel is not None else None
    installed = {} if live_major == wheel_major else {spec.major: spec for spec in available_servers()}
    spec = installed.get(live_major)
    if spec is None or spec.kind == "embedded":
        with open_backend("embedded", pg_version=live_major) as server:
            yield server, choice(server, live_major, live_version)
        return
    with start(spec) as running:
        major, version, _ = describe_server(running.uri)
        server = Server("embedded", major, version, f"PostgreSQL {version} ({spec.origin}, {spec.bindir})",
                        running.uri, superuser=True)
        yield server, choice(server, live_major, live_version)


def choice(server: Server, live_major: int, live_version: str) -> str:
    return choice_of(server.major, server.version, live_major, live_version, server.label)


def choice_of(major: int, version: str, live_major: int, live_version: str, label: str | None = None) -> str:
    label = label or f"PostgreSQL {version}"
    if major == live_major:
        return f"{label}, the live server's major"
    why = ("is not a major migrasafe supports" if live_major not in SUPPORTED_MAJORS
           else "is not installed here (python -m migrasafe.replay.install_pg " f"{live_major})")
    return (f"{label}: the live server's major, {live_major} ({live_version}), {why}; "
            "definitions PostgreSQL prints differently across majors may show as differences")
