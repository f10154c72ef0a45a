"""`migrasafe baseline`: record today's findings so later checks report only new ones."""
from __future__ import annotations

import argparse
import sys

from .errors import UsageError
from .options import add_analysis_options, settings


def add_command(commands, only: str | None) -> None:
    baseline = commands.add_parser(
        "baseline",
        help="record the current findings so later checks report only new ones",
        description="Record the current findings of these migrations in a baseline file; "
        "`migrasafe check --baseline FILE` (or `baseline` in the config) then reports only new ones.",
    )
    baseline.add_argument("paths", nargs="+", metavar="PATH", help="migration files or folders")
    baseline.add_argument(
        "-o", "--output", metavar="FILE",
        help="baseline file to write (default: the config's `baseline`, else migrasafe-baseline.json)",
    )
    add_analysis_options(baseline)
    baseline.set_defaults(command="baseline", run=run_baseline)


def run_baseline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..baseline import BaselineError, write_baseline
    from ..config import ConfigError, config_file_path

    try:
        config = settings(args)
        from ..check import run

        report = run(args.paths, config)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if args.output:
        target = Path(args.output)
    elif config.baseline:
        target = config_file_path(config, config.baseline)
    else:
        target = Path("migrasafe-baseline.json")
    try:
        count = write_baseline(report, target)
    except BaselineError as err:
        raise UsageError(str(err)) from None
    migrations = sum(1 for r in report.results if not r.migration.meta.get("context"))
    print(f"migrasafe: recorded {count} findings of {migrations} migrations in {target}", file=sys.stderr)
    if report.broken:
        print("migrasafe: some input could not be read or parsed; its problems are not recorded", file=sys.stderr)
        return 2
    return 0
