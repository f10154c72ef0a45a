"""Run the history checks and put what they find where the report shows it.

A finding on a migration file joins that migration's findings, so it is reported, or left out
under `--since`, with the migration; one on another file (a journal, a plan, a file the tool does
not run) is a finding of the run, reported under `--since` only when the change touches a file it
is about.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..changed import ChangedFilesError
from ..model import MigrationResult, Report
from ..selection import RuleSelection, make_finding
from .found import Found
from .suppression import Directives


def run_checks(report: Report, listed: list, config, selection: RuleSelection) -> None:
    from .alembic_heads import forks, multiple_heads
    from .django_leaves import conflicting_leaves
    from .flyway_versions import duplicate_versions
    from .listed_files import missing_files, unlisted_files

    changed = config.changed
    migrations = [r.migration for r in report.results]
    found: list[Found] = []
    found += duplicate_versions(listed, changed)
    found += missing_files(listed)
    found += unlisted_files(listed)
    heads = multiple_heads(migrations, changed)
    found += heads
    found += conflicting_leaves(migrations, changed)
    since = getattr(config, "since", None)
    if since and changed is not None:
        try:
            found += _against_base(report, listed, since, changed, {f.file for f in heads})
        except ChangedFilesError as err:
            failure = make_finding("MS099", f"cannot read the base branch's migrations: {err}",
                                   path=listed[0].display_root if listed else ".", line=1)
            report.findings.extend([failure] if failure else [])
    place(report, found, changed, selection, since=bool(since))


def _against_base(report: Report, listed: list, since: str, changed, flagged_heads: set[Path]) -> list[Found]:
    from .alembic_heads import forks
    from .base_tree import BaseTrees
    from .edited import edited
    from .out_of_order import out_of_order

    trees = BaseTrees(since)
    migrations = [r.migration for r in report.results]
    return (out_of_order(listed, trees, changed) + edited(report.results, trees, changed)
            + forks(migrations, trees, changed, flagged_heads))


def place(report: Report, found: list[Found], changed, selection: RuleSelection, since: bool) -> None:
    by_file: dict[Path, list[MigrationResult]] = {}
    for result in report.results:
        file = result.migration.meta.get("file")
        if file:
            by_file.setdefault(Path(file), []).append(result)
    directives = Directives(report.results)
    for item in found:
        results = by_file.get(item.file, [])
        if item.key is not None:
            results = [r for r in results if r.migration.meta.get("key") == item.key] or results
        result = results[0] if results else None
        path = result.migration.path if result else item.display or os.path.relpath(item.file)
        finding = make_finding(item.rule, item.message, path=path, line=item.line, fix=item.fix,
                               selection=selection, severity=item.severity)
        if finding is None or directives.suppresses(item.file, finding, result):
            continue
        if result is not None:
            result.findings.append(finding)
        elif changed is None or any(f in changed for f in (item.file, *item.involves)):
            report.findings.append(finding)
    directives.unused(report.results, since, selection)
