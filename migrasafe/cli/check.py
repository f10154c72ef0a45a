"""`migrasafe check`: the static analysis of migrations."""
from __future__ import annotations

import argparse
import sys

from .errors import UsageError
from .options import FAIL_ON, OUTPUT_FORMATS, add_analysis_options, add_replay_options, settings
from .output import wants_color, write_chunks


def add_command(commands, only: str | None) -> None:
    check = commands.add_parser(
        "check",
        help="check migrations for locks, rewrites and breaking changes",
        description="Check migrations for locks, rewrites and breaking changes.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="migration files or folders")
    check.add_argument("--format", choices=OUTPUT_FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--fail-on", choices=FAIL_ON, help="lowest severity that fails the check (exit 1)")
    add_analysis_options(check)
    check.add_argument(
        "--since", metavar="REF",
        help="report only migrations added or changed since this git ref; `auto`: the base of "
        "the pull or merge request CI runs for",
    )
    check.add_argument("--baseline", metavar="FILE", help="drop the findings this baseline records (migrasafe baseline)")
    check.add_argument("--stats", metavar="FILE", help="table sizes (JSON or YAML) for size-aware severity")
    check.add_argument("--stats-from", metavar="DSN", help="read table sizes from this database (read-only)")
    check.add_argument("--data-from", metavar="DSN",
                       help="predict failures on the rows of this database (read-only): NULLs, duplicates, "
                       "orphans, values a cast or a CHECK rejects")
    check.add_argument("--data-timeout", type=positive_seconds, default=5.0, metavar="SECONDS",
                       help="statement_timeout of each --data-from query (default: 5)")
    check.add_argument("--data-sample-above", type=row_count, default=1_000_000, metavar="ROWS",
                       help="read a TABLESAMPLE of tables estimated above this many rows (default: 1000000; 0: never)")
    check.add_argument("--observed", metavar="FILE", help="JSON report of a replay whose figures to show")
    check.add_argument("--no-color", action="store_true", help="never color the output")
    check.add_argument("--no-cache", action="store_true",
                       help="analyse every migration again instead of loading unchanged ones' results "
                       "from the cache (MIGRASAFE_CACHE_DIR, else the user cache folder)")
    check.add_argument("--jobs", type=positive_count, metavar="N",
                       help="processes that analyse a run the cache does not answer "
                       "(default: every CPU this process may use)")
    check.add_argument("--replay", action="store_true",
                       help="also run the migrations on a throwaway PostgreSQL with production-shaped rows "
                       "(see `migrasafe replay --help`)")
    if only in (None, "check"):
        add_replay_options(check, stats=False)
    check.set_defaults(command="check", run=run_check)


def run_check(args: argparse.Namespace) -> int:
    if args.replay:
        if args.data_from:
            raise UsageError("--data-from predicts failures in a check: run it without --replay")
        from .replay import run_replay

        return run_replay(args)
    if getattr(args, "html", None):
        raise UsageError("--html draws the replay's lock timeline: add --replay")
    recorder = None
    if replayable(args):
        from ..cache import whole_run

        code = whole_run.replayed(args.argv)
        if code is not None:
            return code
        recorder = whole_run.Recorder(args.argv)
    try:
        code, report, config = check_and_write(args)
    finally:
        if recorder is not None:
            recorder.stop()
    if recorder is not None and config.cache and not any(
            r.migration.format in whole_run.CODE_FORMATS for r in report.results):
        recorder.store(code)
    return code


def replayable(args: argparse.Namespace) -> bool:
    """Whether this run's output depends only on files, so that a whole earlier run may stand in
    for it (cache/whole_run.py)."""
    import os

    return not (args.no_cache or os.environ.get("MIGRASAFE_NO_CACHE") or args.since or args.stats_from
                or getattr(args, "data_from", None) or not hasattr(args, "argv"))


def check_and_write(args: argparse.Namespace):
    import gc

    # Everything a check allocates lives until the process ends, so the cyclic collector would
    # only rescan it again and again (a third of a large run, most of it while writing output).
    gc.disable()
    from ..config import ConfigError

    # A missing path is reported with the findings (MS099, exit 2); the other paths are still checked.
    from ..api import CheckError, refine, with_changed

    try:
        config = with_changed(settings(args), args.paths, args.since)
        if args.no_cache:
            config.cache = False
        elif config.cache is None:
            config.cache = True  # the command line's default, as ruff's; the Python API asks for it
        if args.jobs is not None:
            config.jobs = args.jobs
        else:
            from ..parallel import usable_cpus

            config.jobs = usable_cpus()
        from ..check import run

        report = run(args.paths, config)
        refine(
            report, config, args.paths, since=args.since, baseline=args.baseline, stats=args.stats,
            stats_from=args.stats_from, observed=args.observed, data_from=args.data_from,
            data_options=data_options(args),
        )
    except (ConfigError, CheckError) as err:
        raise UsageError(str(err)) from None

    from ..report import render_chunks
    from ..verdict import exit_code

    color = args.format == "text" and wants_color(args.no_color)
    write_chunks(render_chunks(report, args.format, color=color))
    for result in report.results:
        if result.migration.meta.get("context") and result.migration.broken:
            # Not reported, but the schema the other migrations were checked against is incomplete.
            print(f"migrasafe: {broken_context(result)}", file=sys.stderr)
    return exit_code(report, config.fail_on), report, config


def data_options(args: argparse.Namespace):
    if not args.data_from:
        return None
    from ..data_check import Options

    return Options(timeout=args.data_timeout, sample_above=args.data_sample_above)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"expected a number of seconds such as 5, not {text!r}")
    return value


def row_count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of rows such as 1000000, not {text!r}")
    return int(text)


def broken_context(result) -> str:
    findings = result.all_findings()
    worst = next((f for f in findings if f.severity == "error"), findings[0] if findings else None)
    if worst is None:
        return f"{result.migration.path}: could not be read or parsed (read for its schema only)"
    return f"{worst.path}:{worst.line}: {worst.message} (read for its schema only)"


def positive_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes such as 2, not {text!r}")
    return int(text)
