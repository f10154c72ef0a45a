"""`migrasafe plan` and `migrasafe fix` on the command line.

Only argparse is imported here: building the parser happens on every run of `migrasafe`.
"""
from __future__ import annotations

import argparse
import sys

from . import FIX_HELP, PLAN_HELP

# The layouts `plan` writes its steps in (plan/writers/).
PLAN_FORMATS = ("sql", "flyway", "golang-migrate", "dbmate", "diesel", "goose", "sql-migrate", "sqitch", "liquibase", "prisma", "supabase", "drizzle", "node-pg-migrate")


def add_plan_placeholder(commands):
    """`plan` as the command list shows it, without its operations (they cost an import)."""
    plan = commands.add_parser(
        "plan",
        help=PLAN_HELP,
        description="Write the expand-contract steps of a schema change as migration files in the "
        "folder's own format, split where an application deploy must happen.",
    )
    plan.set_defaults(command="plan", run=run_plan, operation=None)
    return plan


def add_plan_command(commands) -> None:
    from .operations import OPERATIONS

    plan = add_plan_placeholder(commands)
    operations = plan.add_subparsers(title="operations", metavar="OPERATION")
    for operation in OPERATIONS.values():
        sub = operations.add_parser(operation.name, help=operation.help, description=operation.help[:1].upper()
                                    + operation.help[1:] + ".")
        for argument in operation.arguments:
            sub.add_argument(argument.name, metavar=argument.metavar, help=argument.help)
        for option in operation.options:
            if option.metavar is None:
                sub.add_argument(option.flag, dest=option.name, action="store_true", help=option.help)
            else:
                sub.add_argument(option.flag, dest=option.name, metavar=option.metavar, help=option.help,
                                 choices=option.choices)
        _plan_options(sub)
        sub.set_defaults(operation=operation.name)


def _plan_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--dir", required=True, metavar="FOLDER", help="the migration folder to continue (Alembic: the folder holding alembic.ini)")
    sub.add_argument("--dry-run", action="store_true", help="print the files instead of writing them")
    sub.add_argument("--source-format", choices=PLAN_FORMATS,
                     help="the folder's migration format (default: detected; needed for an empty folder)")
    sub.add_argument("--batch-size", type=_positive, default=1000, metavar="N",
                     help="rows per backfill transaction (default: 1000)")
    sub.add_argument("--lock-timeout", default="2s", metavar="DURATION",
                     help="lock_timeout every step sets (default: 2s)")
    sub.add_argument("--config", metavar="FILE", help="config file (default: nearest migrasafe.toml or pyproject.toml)")
    sub.add_argument("--schema", action="append", default=[], metavar="DUMP",
                     help="pg_dump --schema-only file describing what the history does not create")
    sub.add_argument("--pg-version", type=_pg_version, metavar="N",
                     help="PostgreSQL major version the plan is checked for, 12 to 18")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _pg_version(text: str) -> int:
    from ..cli import pg_version

    return pg_version(text)


def _config(args: argparse.Namespace, start: str):
    import os
    from pathlib import Path

    from ..cli import UsageError
    from ..config import Config, ConfigError, find_config, load_config

    try:
        if args.config:
            if not Path(args.config).is_file():
                raise UsageError(f"{args.config}: config file not found")
            config = load_config(Path(args.config))
        else:
            found = find_config(Path(start))
            config = load_config(found) if found else Config()
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if getattr(args, "pg_version", None) is not None:
        config.pg_version = args.pg_version
    for dump in getattr(args, "schema", None) or ():
        if not os.path.isfile(dump):
            raise UsageError(f"--schema {dump}: no such file")
        config.schema = [*config.schema, os.path.abspath(dump)]
    return config


def run_plan(args: argparse.Namespace) -> int:
    from ..cli import UsageError, write
    from .errors import PlanError
    from .planner import prepare, write as write_plan
    from .steps import Settings

    if args.operation is None:
        raise UsageError("name an operation: migrasafe plan OPERATION ... (migrasafe plan --help lists them)")
    config = _config(args, args.dir)
    if args.source_format:
        config.format = args.source_format
    arguments = {k: v for k, v in vars(args).items() if v is not None}
    try:
        prepared = prepare(args.dir, args.operation, arguments, config,
                           Settings(batch_size=args.batch_size, lock_timeout=args.lock_timeout))
    except PlanError as err:
        raise UsageError(str(err)) from None
    if prepared.blocking:
        lines = ["migrasafe: the planned files do not pass `migrasafe check` (nothing was written):"]
        lines += [f"  {f.path}:{f.line}: {f.rule} {f.message}" for f in prepared.blocking]
        print("\n".join(lines), file=sys.stderr)
        return 1
    if args.dry_run:
        write(dry_run_text(prepared))
        return 0
    try:
        write_plan(prepared)
    except PlanError as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise UsageError(f"cannot write into {args.dir}: {err.strerror or err}; nothing was written") from None
    write(summary_text(prepared, written=True))
    return 0


def summary_text(prepared, written: bool) -> str:
    import os

    project, plan = prepared.project, prepared.plan
    folder = project.display
    verb = "wrote" if written else "would write"
    lines = [f"migrasafe plan {plan.operation}: {plan.summary}",
             f"{verb} {len(prepared.migrations)} migration(s) in {folder} ({project.format}):", ""]
    for migration in prepared.migrations:
        step = migration.step
        if step.deploy:
            lines.append(f"   ── deploy: {step.deploy}")
        extra = [os.path.basename(f.path) for f in migration.files[1:]]
        also = f" (+ {', '.join(extra)})" if extra else ""
        lines.append(f"{migration.number:>3}. {os.path.join(folder, migration.main)}{also}")
        lines.append(f"     {step.kind}: {step.title}")
    lines.append("")
    lines.append(run_order(prepared))
    for note in plan.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def run_order(prepared) -> str:
    plan = prepared.plan
    deploys = plan.deploys()
    if not deploys:
        return "No deploy is needed: run them in order."
    parts, start = [], 1
    for index, change in deploys:
        if index + 1 > start:
            parts.append(f"run {_span(start, index)}")
        parts.append(f"deploy {change}")
        start = index + 1
    if start <= len(plan.steps):
        parts.append(f"run {_span(start, len(plan.steps))}")
    return "Order: " + "; then ".join(parts) + "."


def _span(first: int, last: int) -> str:
    return f"step {first}" if first == last else f"steps {first}-{last}"


def dry_run_text(prepared) -> str:
    import os

    out = [summary_text(prepared, written=False)]
    for migration in prepared.migrations:
        for planned in migration.files:
            out.append(f"==> {os.path.join(prepared.project.display, planned.path)} <==\n{planned.text}")
    for rel, before, after in prepared.updates:  # sqitch.plan, a Liquibase master changelog
        import difflib

        name = os.path.join(prepared.project.display, rel)
        diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), name, name)
        out.append(f"==> {name} (updated) <==\n{''.join(diff)}")
    return "\n".join(out)


# --- fix -----------------------------------------------------------------------------------


def add_fix_command(commands) -> None:
    fix = commands.add_parser(
        "fix",
        help=FIX_HELP,
        description="Rewrite what has one safe form: CREATE/DROP INDEX gets CONCURRENTLY (and its own "
        "migration where the format wraps files in a transaction), ADD CONSTRAINT FOREIGN KEY / CHECK "
        "gets NOT VALID and a VALIDATE in a separate transaction, lock_timeout is set before a blocking "
        "lock. Shows a diff; changes files only with --write.",
    )
    fix.add_argument("paths", nargs="+", metavar="FILE", help="migration files to fix")
    fix.add_argument("--write", action="store_true", help="write the changes (default: show a diff)")
    fix.add_argument("--lock-timeout", default="2s", metavar="DURATION",
                     help="lock_timeout to set where one is missing (default: 2s)")
    fix.add_argument("--config", metavar="FILE", help="config file (default: nearest migrasafe.toml or pyproject.toml)")
    from ..cli.options import SOURCE_FORMAT_HELP, SOURCE_FORMATS  # the layouts check reads: fix edits what check flags

    fix.add_argument("--source-format", choices=SOURCE_FORMATS, metavar="LAYOUT", help=SOURCE_FORMAT_HELP)
    fix.add_argument("--pg-version", type=_pg_version, metavar="N", help="PostgreSQL major version, 12 to 18")
    fix.set_defaults(command="fix", run=run_fix)


def run_fix(args: argparse.Namespace) -> int:
    from ..cli import UsageError, write
    from .errors import PlanError
    from .fix import apply_fixes, diff_text, plan_fixes

    config = _config(args, args.paths[0])
    if args.source_format:
        config.format = args.source_format
    try:
        fixes = plan_fixes(args.paths, config, lock_timeout=args.lock_timeout)
    except PlanError as err:
        raise UsageError(str(err)) from None
    for note in fixes.notes:
        print(f"migrasafe: {note}", file=sys.stderr)
    for refusal in fixes.refused:
        print(f"migrasafe: {refusal}", file=sys.stderr)
    refused = 2 if fixes.refused else 0  # a fix that should have applied did not: not a success
    if not fixes.changes:
        if not refused:
            print("migrasafe: nothing to fix", file=sys.stderr)
        return refused
    if fixes.remaining:
        print("migrasafe: after these fixes, check still reports:", file=sys.stderr)
        for line in fixes.remaining:
            print(f"  {line}", file=sys.stderr)
    if not args.write:
        write(diff_text(fixes))
        return refused
    try:
        written = apply_fixes(fixes)
    except PlanError as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise UsageError(f"cannot write: {err.strerror or err}") from None
    for path in written:
        print(f"migrasafe: wrote {path}", file=sys.stderr)
    return refused
