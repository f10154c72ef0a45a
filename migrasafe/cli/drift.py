"""`migrasafe drift`: compare a live database's schema with what its migrations build."""
from __future__ import annotations

import argparse

from .errors import UsageError
from .options import add_analysis_options, settings

DRIFT_FORMATS = ("text", "json", "markdown")


def add_command(commands, only: str | None) -> None:
    drift = commands.add_parser(
        "drift",
        help="compare a live database's schema with the schema its migrations build",
        description="Apply the migrations on a throwaway PostgreSQL (the live server's major when installed), "
        "read both schemas from the catalog and list the tables, columns, types, defaults, constraints, "
        "indexes, sequences, views, functions and enum values that differ. The live database is only read, "
        "in one read-only transaction. Exit 0: no drift; 1: drift; 2: bad input, or a migration failed to "
        "apply so the comparison is incomplete.",
    )
    drift.add_argument("paths", nargs="+", metavar="PATH", help="migration files or folders")
    drift.add_argument("--dsn", required=True, metavar="URL",
                       help="the live database (read only: nothing is written to it)")
    drift.add_argument("--format", choices=DRIFT_FORMATS, default="text", help="output format (default: text)")
    drift.add_argument("--include-schema", action="append", default=[], metavar="NAME",
                       help="compare only this schema; repeat for more (default: every schema)")
    drift.add_argument("--statement-timeout", metavar="DURATION", default="30s",
                       help="statement_timeout of the live session (default 30s)")
    add_analysis_options(drift)
    drift.set_defaults(command="drift", run=run_drift)


def run_drift(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..drift.command import run
    from ..replay.budget import BudgetError, parse_duration_ms

    try:
        args.statement_timeout_ms = parse_duration_ms(args.statement_timeout, "--statement-timeout")
        config = settings(args)
    except (ConfigError, BudgetError) as err:
        raise UsageError(str(err)) from None
    return run(args, config, UsageError)
