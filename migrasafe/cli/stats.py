"""`migrasafe stats`: a database's table sizes, for `check --stats`."""
from __future__ import annotations

import argparse
import sys

from .errors import UsageError
from .output import write


def add_command(commands, only: str | None) -> None:
    stats = commands.add_parser(
        "stats",
        help="write the table sizes of a database, for --stats",
        description="Read row estimates and sizes of every table from a database (read-only) "
        "and write them as a stats file for `migrasafe check --stats`.",
    )
    stats.add_argument("dsn", metavar="DSN", help="PostgreSQL connection string")
    stats.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    stats.set_defaults(command="stats", run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    import json

    from ..sizes import SizesError, stats_from_dsn

    try:
        sizes = stats_from_dsn(args.dsn)
    except SizesError as err:
        raise UsageError(str(err)) from None
    document = {name: {"rows": size.rows, "bytes": size.bytes} for name, size in sorted(sizes.items())}
    text = json.dumps(document, indent=2) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as err:
            raise UsageError(f"cannot write {args.output}: {err.strerror or err}") from None
        print(f"migrasafe: wrote the sizes of {len(document)} tables to {args.output}", file=sys.stderr)
    else:
        write(text)
    return 0
