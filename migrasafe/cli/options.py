"""Options shared by the commands that analyse migrations, and the settings they make."""
from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from .errors import UsageError


class _RegisteredFormats(Sequence):
    """The layouts `--source-format` accepts: every format of the registry (sources/registry.py),
    then Alembic and Django, which are read by their own packages. Asked for only when an option
    names one or help lists them, since importing the readers costs more than building the parser."""

    def _names(self) -> tuple[str, ...]:
        from ..sources.plan import ALEMBIC, DJANGO
        from ..sources.registry import FORMATS

        return (*FORMATS, ALEMBIC, DJANGO)

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


# Every command's --source-format takes these (check, baseline, verify, fix). A metavar keeps
# argparse from listing them while the parser is built (it formats each option's arguments
# then); the help lists them, and so does the error for a name not among them.
SOURCE_FORMATS: Sequence[str] = _RegisteredFormats()
SOURCE_FORMAT_HELP = "migration layout, one of: %(choices)s (default: detected)"
OUTPUT_FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown")
FAIL_ON = ("info", "warning", "error", "never")
PG_VERSIONS = range(12, 19)


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
    command.add_argument("--source-format", choices=SOURCE_FORMATS, metavar="LAYOUT", help=SOURCE_FORMAT_HELP)
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
        help="the migration the database is at (Alembic revision, Drizzle journal tag or index, a "
        "migration's file name or version): only the ones after it are checked, as the pending run",
    )
    command.add_argument("--to", dest="alembic_to", metavar="REV",
                         help="the last migration to check (Alembic revision, Drizzle journal tag or index, a "
                              "migration's file name or version): the ones after it are not read")
    command.add_argument(
        "--django-settings", metavar="MODULE",
        help="Django settings module (default: manage.py's DJANGO_SETTINGS_MODULE, or a minimal one)",
    )


def add_replay_options(command: argparse.ArgumentParser, *, stats: bool) -> None:
    from ..replay.options import add_replay_options as add

    add(command, stats=stats)


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


def settings(args: argparse.Namespace):
    """The config file's settings (explicit, found by walking up, or defaults), then the options."""
    from pathlib import Path

    from ..config import Config, find_config, load_config

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
    config.start, config.stop = alembic.get("from"), alembic.get("to")
    if getattr(args, "django_settings", None):
        config.django = {**config.django, "settings": args.django_settings.strip()}
    return config


def rule_ids(text: str, option: str) -> list[str]:
    from ..rules.registry import get_rule
    from .rules import suggestion

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
