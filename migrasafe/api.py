"""migrasafe for programs that embed it.

    import migrasafe

    report = migrasafe.check(["migrations/"], pg_version=15, since="origin/main")
    for finding in migrasafe.api.findings(report):
        print(finding.path, finding.line, finding.rule, finding.severity, finding.message)
    print(migrasafe.api.render(report, "markdown"))
    raise SystemExit(migrasafe.api.exit_code(report))

`check()` takes the same settings as `migrasafe check` and returns the `Report` the command
prints (migrasafe/model.py); bad settings raise `CheckError` with the message the command
would print. The command line is a thin layer over `check_with()`, so both behave alike.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import Config, ConfigError, config_file_path, find_config, load_config
from .model import Finding, Report

__all__ = ["CheckError", "Report", "Finding", "check", "check_with", "findings", "verdict", "exit_code", "render"]


class CheckError(ValueError):
    """Settings or inputs that make the check impossible; the message says which and why."""


def check(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    config: Config | str | os.PathLike | None = None,
    pg_version: int | None = None,
    fail_on: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    schema: Iterable[str | os.PathLike] | None = None,
    since: str | None = None,
    baseline: str | os.PathLike | None = None,
    stats: str | os.PathLike | None = None,
    stats_from: str | None = None,
    observed: str | os.PathLike | None = None,
    data_from: str | None = None,
    data_options=None,
) -> Report:
    """Check migration files or folders and return the report.

    config: a `Config`, a config file, or None to find migrasafe.toml / pyproject.toml by
        walking up from the first path, as the command does.
    pg_version, fail_on, select, ignore, schema: as the command's options of the same names.
    since: a git ref; only migrations added or changed since it are reported ("auto": the
        base of the pull request CI runs for).
    baseline: a file from `migrasafe baseline`; findings it records are dropped.
    stats / stats_from: table sizes from a file or a PostgreSQL connection string, for
        size-aware severity.
    observed: a JSON report from `migrasafe replay` whose statements' figures are attached.
    data_from: a PostgreSQL connection string whose rows predict failures, read-only
        (migrasafe.data_check; data_options: its `Options`, timeout and sampling).
    """
    names = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    if not names:
        raise CheckError("no paths to check")
    settings = resolve_config(config, names[0])
    if pg_version is not None:
        if pg_version not in range(12, 19):
            raise CheckError(f"PostgreSQL {pg_version} is not supported (12 to 18)")
        settings.pg_version = pg_version
    if fail_on is not None:
        if fail_on not in ("info", "warning", "error", "never"):
            raise CheckError("fail_on must be info, warning, error or never")
        settings.fail_on = fail_on
    if select is not None:
        settings.select = rule_ids(select, "select")
    if ignore is not None:
        settings.ignore = rule_ids(ignore, "ignore")
    if schema is not None:
        settings.schema = [os.path.abspath(os.fspath(s)) for s in schema]
    return check_with(
        names, settings, since=since,
        baseline=os.fspath(baseline) if baseline is not None else None,
        stats=os.fspath(stats) if stats is not None else None, stats_from=stats_from,
        observed=os.fspath(observed) if observed is not None else None, data_from=data_from,
        data_options=data_options,
    )


def check_with(
    paths: list[str],
    config: Config,
    *,
    since: str | None = None,
    baseline: str | None = None,
    stats: str | None = None,
    stats_from: str | None = None,
    observed: str | None = None,
    use_baseline: bool = True,
    data_from: str | None = None,
    data_options=None,
) -> Report:
    """The pipeline (check.run), then the steps that narrow or reweigh what it found.

    Files passed here are relative to the working directory; the configuration's own
    `baseline` and `stats` entries are relative to the configuration file.
    """
    from . import check as pipeline

    config = with_changed(config, paths, since)
    report = pipeline.run(paths, config)
    refine(report, config, paths, since=since, baseline=baseline, stats=stats, stats_from=stats_from,
           observed=observed, use_baseline=use_baseline, data_from=data_from, data_options=data_options)
    return report


def refine(
    report: Report,
    config: Config,
    paths: list[str],
    *,
    since: str | None = None,
    baseline: str | None = None,
    stats: str | None = None,
    stats_from: str | None = None,
    observed: str | None = None,
    use_baseline: bool = True,
    data_from: str | None = None,
    data_options=None,
) -> None:
    # Each step imports its module only when it is used: a plain check must start fast.
    if observed:
        from .observed import ObservedError, attach_observed

        with _as_check_error(ObservedError):
            attach_observed(report, Path(observed))
    if since:
        from .changed import mark_unchanged

        mark_unchanged(report, with_changed(config, paths, since).changed)
    if data_from:
        from .data_check import DataCheckError, check_data

        with _as_check_error(DataCheckError):
            check_data(report, config, data_from, data_options)
    if stats or stats_from or config.stats:
        from .sizes import SizesError, Thresholds, apply_sizes, thresholds_from_table

        with _as_check_error(SizesError):
            sizes = table_sizes(config, stats, stats_from)
            where = config.source or "configuration"
            limits = thresholds_from_table(config.sizes, where) if config.sizes else Thresholds()
            apply_sizes(report, sizes, limits)
    if use_baseline and (baseline or config.baseline):
        from .baseline import BaselineError, apply_baseline

        with _as_check_error(BaselineError):
            if baseline:
                apply_baseline(report, Path(baseline), display=baseline, selection=rule_selection(config))
            else:
                file = config_file_path(config, config.baseline)
                apply_baseline(report, file, display=display_path(file), selection=rule_selection(config))


def with_changed(config: Config, paths: list[str], since: str | None) -> Config:
    """The configuration with the files changed since `since`: the report keeps only their
    migrations, and Alembic runs the changed revisions as one upgrade, as their deploy will."""
    if not since or config.changed is not None:
        return config
    import dataclasses

    from .changed import ChangedFilesError, changed_files

    with _as_check_error(ChangedFilesError):
        return dataclasses.replace(config, changed=frozenset(changed_files(since, Path(paths[0]))), since=since)


@contextmanager
def _as_check_error(error: type[Exception]) -> Iterator[None]:
    try:
        yield
    except error as err:
        raise CheckError(str(err)) from None


def table_sizes(config: Config, stats: str | None, stats_from: str | None):
    from .sizes import load_stats, stats_from_dsn

    if stats and stats_from:
        raise CheckError("give table sizes as a file (stats) or a connection (stats_from), not both")
    if stats_from:
        return stats_from_dsn(stats_from)
    if stats:
        return load_stats(Path(stats))
    if config.stats:
        return load_stats(config_file_path(config, config.stats))
    return None


def rule_selection(config: Config):
    from .analyse import RuleSelection

    return RuleSelection(config)


def resolve_config(config: Config | str | os.PathLike | None, first_path: str) -> Config:
    if isinstance(config, Config):
        return config
    try:
        if config is not None:
            path = Path(config)
            if not path.is_file():
                raise CheckError(f"{config}: config file not found")
            return load_config(path)
        found = find_config(Path(first_path))
        return load_config(found) if found else Config()
    except ConfigError as err:
        raise CheckError(str(err)) from None


def rule_ids(words: Iterable[str], option: str) -> list[str]:
    from .rules.registry import find_rule

    if isinstance(words, str):
        words = words.split(",")
    ids = []
    for word in (w.strip() for w in words):
        if not word:
            continue
        rule = find_rule(word)
        if rule is None:
            raise CheckError(f"{option}: unknown rule {word!r}")
        ids.append(rule.id)
    return ids


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, as the other paths in a report are."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def findings(report: Report) -> Iterator[Finding]:
    """Every finding the report shows: run-level ones, then each reported migration's."""
    from .verdict import reported_findings

    return reported_findings(report)


def verdict(report: Report) -> str:
    """"pass", "warn" or "fail": the worst reported severity."""
    from .verdict import verdict as worst

    return worst(report)


def exit_code(report: Report, fail_on: str | None = None) -> int:
    """The command's exit code: 2 incomplete input, 1 a finding at or above fail_on, else 0."""
    from .verdict import exit_code as code

    return code(report, fail_on or report.fail_on)


def render(report: Report, fmt: str = "text") -> str:
    """The report as the command prints it: text, json, sarif, github, gitlab, junit or markdown."""
    from .report import FORMATS, render as render_report

    if fmt not in FORMATS:
        raise CheckError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return render_report(report, fmt)
