"""`migrasafe replay`: the migrations run on a throwaway PostgreSQL."""
from __future__ import annotations

import argparse

from .errors import UsageError
from .options import FAIL_ON, OUTPUT_FORMATS, add_analysis_options, add_replay_options, settings


def add_command(commands, only: str | None) -> None:
    replay = commands.add_parser(
        "replay",
        help="run migrations on a throwaway PostgreSQL with production-shaped rows; measure locks, time, blocking",
        description="Check the migrations, then run them on a throwaway PostgreSQL whose tables hold synthetic "
        "rows shaped like production; measure each statement's locks, rewrites, duration and the time "
        "concurrent reads and writes waited; predict the durations at production size and judge them "
        "against the budgets.",
    )
    replay.add_argument("paths", nargs="+", metavar="PATH", help="migration files or folders")
    replay.add_argument("--format", choices=OUTPUT_FORMATS, default="text", help="output format (default: text)")
    replay.add_argument("--fail-on", choices=FAIL_ON, help="lowest severity that fails the run (exit 1)")
    add_analysis_options(replay)
    replay.add_argument("--no-color", action="store_true", help="never color the output")
    if only in (None, "replay"):
        add_replay_options(replay, stats=True)
    replay.set_defaults(command="replay", run=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..replay.command import run

    try:
        config = settings(args)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    return run(args, config, UsageError)
