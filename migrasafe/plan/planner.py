"""From an operation and a migration folder to checked migration files, and onto disk."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..config import Config
from ..model import Finding
from .errors import PlanError
from .files import write_new_files
from .layout import Layout
from .operations import OPERATIONS
from .render import PlannedMigration, render_plan
from .schema import Project, load_project
from .steps import Plan, Settings
from .verify import check_in_copy
from .writers import WRITERS
from ..sources.registry import FORMATS


@dataclass
class Prepared:
    project: Project
    plan: Plan
    migrations: list[PlannedMigration]
    findings: list[Finding]  # what `migrasafe check` says about the planned files
    # Existing files that must list the new migrations (sqitch.plan, a Liquibase master changelog):
    # (path relative to the folder, text before, text after).
    updates: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def files(self) -> list[tuple[str, str]]:
        return [(f.path, f.text) for m in self.migrations for f in m.files]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "info"]


def prepare(folder: str, operation: str, arguments: dict, config: Config | None = None,
            settings: Settings | None = None, now: datetime | None = None) -> Prepared:
    if operation not in OPERATIONS:
        raise PlanError(f"unknown operation {operation!r} (one of: {', '.join(OPERATIONS)})")
    config = config or Config()
    settings = settings or Settings()
    _check_settings(settings)
    project = load_project(folder, config)
    plan = OPERATIONS[operation].build(project, arguments, settings)
    _check_runner(project, plan)
    if project.format == "alembic":
        from .alembic_revisions import render_revisions

        migrations = render_revisions(plan, project.alembic, project.folder, settings.lock_timeout,
                                      _per_migration(project), now)
    elif project.format == "django":
        from .django_migrations import render_migrations

        migrations = render_migrations(plan, project.django, settings.lock_timeout, now)
    else:
        layout = Layout.of(project.format, project.folder)
        migrations = render_plan(plan, layout, settings.lock_timeout, now)
    updates = []
    if project.format not in ("alembic", "django") and layout.writer.list_new is not None:
        updates = layout.writer.list_new(layout, migrations, now)
    files = [(f.path, f.text) for m in migrations for f in m.files] + [(rel, after) for rel, _, after in updates]
    findings = check_in_copy(project.folder, project.format, config, files, [m.main for m in migrations],
                             project.display)
    return Prepared(project, plan, migrations, findings, updates)


def write(prepared: Prepared) -> list[Path]:
    if prepared.blocking:
        raise PlanError("the planned files do not pass migrasafe check; nothing was written")
    folder = prepared.project.folder
    for rel, before, _ in prepared.updates:
        if (folder / rel).read_bytes().decode("utf-8") != before:
            raise PlanError(f"{folder / rel} changed since it was read; nothing was written")
    written = write_new_files(prepared.project.folder, prepared.files)
    if prepared.updates:
        from .files import replace_file

        for rel, _, after in prepared.updates:
            replace_file(folder / rel, after.encode("utf-8"))
    if prepared.project.format == "atlas":
        from ..sources.atlas.sumfile import rewrite_sums

        rewrite_sums(written)  # Atlas refuses a directory whose atlas.sum does not list every file
    return written


def _check_settings(settings: Settings) -> None:
    from ..transaction import parse_duration_ms

    if settings.batch_size < 1:
        raise PlanError("--batch-size must be at least 1")
    ms = parse_duration_ms(settings.lock_timeout)
    if not ms:
        raise PlanError(f"--lock-timeout {settings.lock_timeout!r} is not a duration such as 2s or 500ms")


def _check_runner(project: Project, plan: Plan) -> None:
    """A runner configured to wrap every file in a transaction cannot run the steps that need to be
    outside one."""
    fmt = project.format
    writer = WRITERS.get(fmt)
    outside = [s for s in plan.steps if not s.transactional]
    if writer is not None and writer.never_outside and outside:
        raise PlanError(f"\"{outside[0].title}\" must run outside a transaction, and {writer.never_outside}")
    if fmt in FORMATS and FORMATS[fmt].runner.scope == "run" and len(plan.steps) > 1:
        plan.notes.append(f"{fmt} applies every pending migration in one transaction: run the migrator once per "
                          "step (add the files one deploy at a time), or each step's locks are held through the "
                          "next ones and a VALIDATE scans under the lock its ADD took")
    if fmt in ("sql", "golang-migrate") and project.config.transaction.get(fmt):
        outside = [s for s in plan.steps if not s.transactional]
        if outside:
            raise PlanError(f"this project runs every {fmt} file in a transaction (transaction.{fmt} = true in "
                            f"{project.config.source or 'the configuration'}), but \"{outside[0].title}\" must "
                            f"run outside one")


def _per_migration(project: Project) -> bool:
    """Does each Alembic revision run in its own transaction (env.py, or the migrasafe setting)?"""
    from ..sources.alembic.envpy import read_env
    from ..sources.alembic.settings import alembic_settings

    settings = alembic_settings(project.config.alembic, project.config.root)
    if settings.transaction_per_migration is not None:
        return settings.transaction_per_migration
    location = project.alembic.script_location
    return bool(location is not None and read_env(location).transaction_per_migration)
