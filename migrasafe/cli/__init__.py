"""The `migrasafe` command.

Imports stay inside the commands: `migrasafe check` on one file should cost little more than
the interpreter's own start, and `migrasafe --version` nothing at all. Each command is a module
of this package with an ``add_command(commands, only)`` that adds its parser; ``COMMANDS`` lists
them in the order `migrasafe --help` shows.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import UsageError
from .options import OUTPUT_FORMATS, SOURCE_FORMATS, pg_version, settings
from .output import wants_color, write, write_chunks

__all__ = ["OUTPUT_FORMATS", "SOURCE_FORMATS", "UsageError", "build_parser", "main", "pg_version", "settings",
           "wants_color", "write", "write_chunks"]

COMMANDS = ("check", "replay", "verify", "drift", "baseline", "stats", "rules", "plan")

BUG_HINT = (
    "This is a bug in migrasafe. Please report it with the migration that triggered it; "
    "set MIGRASAFE_DEBUG=1 to see the traceback."
)


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
    args.argv = list(sys.argv[1:] if argv is None else argv)
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
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_command(commands, only)
    return parser


class VersionAction(argparse.Action):
    """`--version`, worked out only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..report import tool_version

        print(f"migrasafe {tool_version()}")
        parser.exit()
