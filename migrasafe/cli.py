"""The `migrasafe` command.

Imports stay inside the commands: `migrasafe check` on one file should cost little more than
the interpreter's own start, and `migrasafe --version` nothing at all.
"""
from __future__ import annotations

import argparse
import os
import sys

SOURCE_FORMATS = ("sql", "flyway", "golang-migrate", "dbmate", "diesel", "popx", "alembic", "sqitch", "atlas", "versioned-folders",
                  "prisma", "supabase", "graphile-migrate", "drizzle", "node-pg-migrate",
                  "goose", "sql-migrate", "liquibase", "django")
OUTPUT_FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown")
FAIL_ON = ("info", "warning", "error", "never")
PG_VERSIONS = range(12, 19)

BUG_HINT = (
    "This is a bug in migrasafe. Please report it with the migration that triggered it; "
    "set MIGRASAFE_DEBUG=1 to see the traceback."
)


class UsageError(Exception):
    """Input from the user that cannot be used; the message says which and why."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(only=_command_in(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits on --help, --version and bad usage
        if stop.code is None:
            return 0
        return stop.code if isinstance(stop.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except UsageError as err:
        print(f"migrasafe: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`migrasafe check … | head`); stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as err:
        if os.environ.get("MIGRASAFE_DEBUG") == "1":
            raise
        print(f"migrasafe: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        print(BUG_HINT, file=sys.stderr)
        return 2


def _command_in(argv: list[str]) -> str | None:
    """The subcommand these arguments run, if any (the first word that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `only`, one where only that command has its options: the
    replay and plan options import modules a plain check would otherwise pay for on every run."""
    parser = argparse.ArgumentParser(
        prog="migrasafe",
        description="A safety gate for PostgreSQL schema migrations.",
    )
    parser.add_argument("--version", action=VersionAction, help="show the version and exit")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

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
    check.add_argument("--observed", metavar="FILE", help="JSON report of a replay whose figures to show")
    check.add_argument("--no-color", action="store_true", help="never color the output")
    check.add_argument("--no-cache", action="store_true",
                       help="analyse every migration again instead of loading unchanged ones' results "
                       "from the cache (MIGRASAFE_CACHE_DIR, else the user cache folder)")
    check.add_argument("--replay", action="store_true",
                       help="also run the migrations on a throwaway PostgreSQL with production-shaped rows "
                       "(see `migrasafe replay --help`)")
    if only in (None, "check"):
        add_replay_options(check, stats=False)
    check.set_defaults(command="check", run=run_check)

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

    stats = commands.add_parser(
        "stats",
        help="write the table sizes of a database, for --stats",
        description="Read row estimates and sizes of every table from a database (read-only) "
        "and write them as a stats file for `migrasafe check --stats`.",
    )
    stats.add_argument("dsn", metavar="DSN", help="PostgreSQL connection string")
    stats.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    stats.set_defaults(command="stats", run=run_stats)

    rules = commands.add_parser("rules", help="list every rule", description="List every rule.")
    rules.set_defaults(command="rules", run=run_rules)

    explain = commands.add_parser(
        "explain", help="explain one rule", description="Explain one rule: what it catches, why, and what to do instead."
    )
    explain.add_argument("rule", metavar="ID_OR_NAME", help='a rule id ("MS001") or name')
    explain.set_defaults(command="explain", run=run_explain)

    if only in (None, "plan", "fix"):
        from .plan.command import add_fix_command, add_plan_command, add_plan_placeholder

        if only == "fix":
            add_plan_placeholder(commands)
        else:
            add_plan_command(commands)
        add_fix_command(commands)
    else:
        # Listed, not runnable: another command runs, and the plan module is not worth loading.
        from .plan import FIX_HELP, PLAN_HELP

        commands.add_parser("plan", help=PLAN_HELP)
        commands.add_parser("fix", help=FIX_HELP)
    return parser


def add_analysis_options(command: argparse.ArgumentParser) -> None:
    """Options that change what the analysis finds, shared by `check` and `baseline`."""
    command.add_argument("--pg-version", type=pg_version, metavar="N", help="PostgreSQL major version, 12 to 18")
    command.add_argument("--select", metavar="IDS", help="only these rules (comma-separated ids or names)")
    command.add_argument("--ignore", metavar="IDS", help="skip these rules (comma-separated ids or names)")
    command.add_argument("--config", metavar="FILE", help="config file (default: nearest migrasafe.toml or pyproject.toml)")
    command.add_argument(
        "--placeholder", action="append", type=placeholder, default=[], metavar="NAME=VALUE",
        help="Flyway placeholder value; repeat for more",
    )
    command.add_argument(
        "--flyway-mixed", action="store_true", default=None,
        help="Flyway mixed mode: files with non-transactional statements run outside a transaction",
    )
    command.add_argument(
        "--schema", action="append", default=[], metavar="DUMP",
        help="pg_dump --schema-only file describing the existing database; repeat for more",
    )
    command.add_argument("--source-format", choices=SOURCE_FORMATS, help="migration format (default: detected)")
    command.add_argument(
        "--timezone-utc", action="store_true", default=None,
        help="the session TimeZone is UTC (timestamp to timestamptz needs no rewrite)",
    )
    command.add_argument(
        "--alembic-dir", metavar="DIR",
        help="Alembic script location (env.py and versions/) when no alembic.ini names it",
    )
    command.add_argument(
        "--from", dest="alembic_from", metavar="REV",
        help="Alembic: the revision the database is at; only the revisions after it are checked",
    )
    command.add_argument("--to", dest="alembic_to", metavar="REV", help="Alembic: the last revision to check")
    command.add_argument(
        "--django-settings", metavar="MODULE",
        help="Django settings module (default: manage.py's DJANGO_SETTINGS_MODULE, or a minimal one)",
    )


def add_replay_options(command: argparse.ArgumentParser, *, stats: bool) -> None:
    from .replay.options import add_replay_options as add

    add(command, stats=stats)


class VersionAction(argparse.Action):
    """`--version`, worked out only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from .report import tool_version

        print(f"migrasafe {tool_version()}")
        parser.exit()


def pg_version(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a major version such as 16, not {text!r}") from None
    if value not in PG_VERSIONS:
        raise argparse.ArgumentTypeError(f"PostgreSQL {value} is not supported (12 to 18)")
    return value


def placeholder(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name.strip(), value


# --- check ---------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    if args.replay:
        return run_replay(args)
    if getattr(args, "html", None):
        raise UsageError("--html draws the replay's lock timeline: add --replay")
    import gc

    # Everything a check allocates lives until the process ends, so the cyclic collector would
    # only rescan it again and again (a third of a large run, most of it while writing output).
    gc.disable()
    from .config import ConfigError

    # A missing path is reported with the findings (MS099, exit 2); the other paths are still checked.
    from .api import CheckError, refine, with_changed

    try:
        config = with_changed(settings(args), args.paths, args.since)
        if args.no_cache:
            config.cache = False
        elif config.cache is None:
            config.cache = True  # the command line's default, as ruff's; the Python API asks for it
        from .check import run

        report = run(args.paths, config)
        refine(
            report, config, args.paths, since=args.since, baseline=args.baseline, stats=args.stats,
            stats_from=args.stats_from, observed=args.observed,
        )
    except (ConfigError, CheckError) as err:
        raise UsageError(str(err)) from None

    from .report import render_chunks
    from .verdict import exit_code

    color = args.format == "text" and wants_color(args.no_color)
    write_chunks(render_chunks(report, args.format, color=color))
    for result in report.results:
        if result.migration.meta.get("context") and result.migration.broken:
            # Not reported, but the schema the other migrations were checked against is incomplete.
            print(f"migrasafe: {broken_context(result)}", file=sys.stderr)
    return exit_code(report, config.fail_on)


def run_replay(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .replay.command import run

    try:
        config = settings(args)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    return run(args, config, UsageError)


def run_baseline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .baseline import BaselineError, write_baseline
    from .config import ConfigError, config_file_path

    try:
        config = settings(args)
        from .check import run

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


def run_stats(args: argparse.Namespace) -> int:
    import json

    from .sizes import SizesError, stats_from_dsn

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


def broken_context(result) -> str:
    findings = result.all_findings()
    worst = next((f for f in findings if f.severity == "error"), findings[0] if findings else None)
    if worst is None:
        return f"{result.migration.path}: could not be read or parsed (read for its schema only)"
    return f"{worst.path}:{worst.line}: {worst.message} (read for its schema only)"


def settings(args: argparse.Namespace):
    """The config file's settings (explicit, found by walking up, or defaults), then the options."""
    from pathlib import Path

    from .config import Config, find_config, load_config

    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise UsageError(f"{args.config}: config file not found")
        config = load_config(path)
    else:
        found = find_config(Path(args.paths[0]))
        config = load_config(found) if found else Config()

    if args.pg_version is not None:
        config.pg_version = args.pg_version
    if getattr(args, "fail_on", None) is not None:  # `baseline` has no --fail-on
        config.fail_on = args.fail_on
    if args.select is not None:
        config.select = rule_ids(args.select, "--select")
    if args.ignore is not None:
        config.ignore = rule_ids(args.ignore, "--ignore")
    if args.source_format is not None:
        config.format = args.source_format
    if args.placeholder:
        config.placeholders = {**config.placeholders, **dict(args.placeholder)}
    if args.flyway_mixed:
        config.flyway_mixed = True
    if args.timezone_utc:
        config.timezone_utc = True
    if args.schema:
        for dump in args.schema:
            if not os.path.isfile(dump):
                raise UsageError(f"--schema {dump}: no such file")
        # Absolute, so they are not taken as relative to the config file like its own entries.
        config.schema = [os.path.abspath(dump) for dump in args.schema]
    alembic = {}
    alembic_dir = getattr(args, "alembic_dir", None)
    if alembic_dir is not None:
        if not os.path.isdir(alembic_dir):
            raise UsageError(f"--alembic-dir {alembic_dir}: no such folder")
        alembic["script_location"] = os.path.abspath(alembic_dir)
    for option, key, value in (("--from", "from", getattr(args, "alembic_from", None)),
                               ("--to", "to", getattr(args, "alembic_to", None))):
        if value is not None:
            if not value.strip():
                raise UsageError(f"{option}: expected a revision id")
            alembic[key] = value.strip()
    if alembic:
        config.alembic = {**config.alembic, **alembic}
    if getattr(args, "django_settings", None):
        config.django = {**config.django, "settings": args.django_settings.strip()}
    return config


def rule_ids(text: str, option: str) -> list[str]:
    from .rules.registry import get_rule

    ids = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        rule = get_rule(word)
        if rule is None:
            raise UsageError(f"{option}: unknown rule {word!r}{suggestion(word)}")
        ids.append(rule.id)
    if not ids:
        raise UsageError(f"{option}: expected comma-separated rule ids or names")
    return ids


def wants_color(no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def write(text: str) -> None:
    write_chunks((text,))


def write_chunks(chunks) -> None:
    """Write the pieces of one output as they come: a large report is never one string."""
    stdout = sys.stdout
    # A non-UTF-8 terminal must not turn "—" in a message into a crash.
    if getattr(stdout, "errors", None) == "strict" and hasattr(stdout, "reconfigure"):
        stdout.reconfigure(errors="backslashreplace")
    for text in chunks:
        stdout.write(text)
    stdout.flush()


# --- rules / explain -----------------------------------------------------------------------


def run_rules(args: argparse.Namespace) -> int:
    from .rules.registry import all_rules

    rules = all_rules()
    if not rules:
        return 0
    width_id = max(len(r.id) for r in rules)
    width_name = max(len(r.name) for r in rules)
    width_severity = max(len(r.severity) for r in rules)
    lines = [
        f"{r.id:<{width_id}}  {r.name:<{width_name}}  {r.severity:<{width_severity}}  {r.summary}".rstrip()
        for r in rules
    ]
    write("\n".join(lines) + "\n")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from .rules.registry import get_rule

    rule = get_rule(args.rule.strip())
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r}{suggestion(args.rule)} (`migrasafe rules` lists every rule)")
    write(explanation(rule))
    return 0


def explanation(rule) -> str:
    parts = [f"# {rule.name} ({rule.id})", ""]
    parts.append(f"Severity: {rule.severity}")
    if rule.versions:
        parts.append(f"Versions: {rule.versions}")
    parts.append("")
    sections = [
        ("What it does", rule.what, False),
        ("Why is this bad?", rule.why, False),
        ("Example", rule.example, True),
        ("Use instead", rule.use_instead, True),
    ]
    for heading, body, is_sql in sections:
        body = (body or "").strip("\n")
        if not body.strip():
            continue
        parts.append(f"## {heading}")
        parts.extend(["```sql", body, "```"] if is_sql else [body])
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def suggestion(word: str) -> str:
    """ "; did you mean MS001 (index-without-concurrently)?" for the closest rules, or ""."""
    from difflib import SequenceMatcher

    from .rules.registry import all_rules

    word = word.strip().lower()
    scored = []
    for rule in all_rules():
        score = 0.0
        for key in (rule.id.lower(), rule.name):
            ratio = SequenceMatcher(None, word, key).ratio()
            # "MS01" or "index-without" are more likely the start of what was meant.
            if key.startswith(word):
                ratio += 0.1
            score = max(score, ratio)
        if score >= 0.6:
            scored.append((score, rule))
    scored.sort(key=lambda pair: -pair[0])
    close = [rule for _, rule in scored[:3]]
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"{r.id} ({r.name})" for r in close) + "?"
