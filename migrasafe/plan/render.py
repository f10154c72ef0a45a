"""A plan's steps as the files of one migration format.

Each format's runner decides what a file may hold. Flyway, golang-migrate, dbmate and diesel
must receive a statement that cannot run in a transaction block alone: Flyway refuses a script
that mixes it with anything else, and the other three send a file as one query string, which
PostgreSQL runs as one implicit transaction. psql (plain SQL) sends statements one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .layout import Layout
from .sql import literal, slug as make_slug
from .steps import KINDS, Plan, Step

from .writers import WRITERS, NewMigration


@dataclass
class PlannedFile:
    path: str  # relative to the migration folder
    text: str


@dataclass
class PlannedMigration:
    step: Step
    number: int  # 1-based position in the plan
    version: str
    files: list[PlannedFile] = field(default_factory=list)

    @property
    def main(self) -> str:
        return self.files[0].path


def render_plan(plan: Plan, layout: Layout, lock_timeout: str, now: datetime | None = None) -> list[PlannedMigration]:
    versions = layout.versions(len(plan.steps), now)
    previous = layout.last_version() or "0"
    out = []
    for number, (step, version) in enumerate(zip(plan.steps, versions), 1):
        planned = PlannedMigration(step, number, version)
        context = Context(plan, step, number, layout.format, lock_timeout, previous)
        slug = make_slug(step.slug)
        main = layout.main_file(version, slug)
        new = NewMigration(rel=main, header=header(context), up=up_text(context), down=down_text(context),
                           transactional=step.transactional, alone=_alone(step))
        planned.files.extend(PlannedFile(path, text) for path, text in layout.writer.files(new))
        out.append(planned)
        previous = version
    return out


@dataclass
class Context:
    plan: Plan
    step: Step
    number: int
    format: str
    lock_timeout: str
    previous: str  # version of the migration before this one


def _alone(step: Step) -> bool:
    """A statement PostgreSQL refuses inside a transaction block (not a DO block, which only
    needs to run outside one to COMMIT)."""
    return not step.transactional and not step.own_lock_timeout


def header(context: Context) -> str:
    step, plan = context.step, context.plan
    total = len(plan.steps)
    lines = [f"Deploy before running: {deploy_line(plan, context.number - 1)}",
             f"migrasafe plan {plan.operation}: {plan.summary}",
             f"Step {context.number} of {total} ({step.kind}: {KINDS[step.kind]}): {step.title}."]
    lines.extend(step.notes)
    lines.append(lock_line(context))
    lines.append(retry_line(context))
    return "".join(_comment(line) for line in lines)


def deploy_line(plan: Plan, index: int) -> str:
    step = plan.steps[index]
    if step.deploy:
        return step.deploy + "."
    before = plan.application_before(index)
    if step.requires:
        return f"nothing, provided the running application {step.requires}."
    if before:
        return f"nothing new (the deploy before step {_deploy_step(plan, index)}: {before})."
    return "nothing; the application version already running keeps working."


def _deploy_step(plan: Plan, index: int) -> int:
    for i in range(index, -1, -1):
        if plan.steps[i].deploy:
            return i + 1
    return 1


def lock_line(context: Context) -> str:
    step = context.step
    timeout = literal(context.lock_timeout)
    if step.own_lock_timeout:
        return f"lock_timeout: {timeout}, set inside the DO block (it runs outside a transaction block)."
    if _alone(step) and not WRITERS[context.format].statement_by_statement:
        return (f"lock_timeout: not set in this file, which must hold this one statement alone for "
                f"{context.format}; the build waits without blocking reads or writes. To bound the wait, give "
                f"the runner's connection -c lock_timeout={context.lock_timeout} (PGOPTIONS).")
    return f"lock_timeout: {timeout}, so a blocked lock request gives up instead of queueing traffic behind it."


def retry_line(context: Context) -> str:
    step, fmt = context.step, context.format
    writer = WRITERS[fmt]
    rerun = writer.rerun.format(previous=context.previous)
    if step.transactional:
        return f"If it fails (a lock_timeout included), the transaction rolls back and nothing changed: {rerun}."
    rerun = (writer.rerun_outside or writer.rerun).format(previous=context.previous)
    what = f"{step.retry}. To rerun: " if step.retry else ""
    return f"If it fails: {what}{rerun}."


def _comment(line: str) -> str:
    return "".join(f"-- {part}\n" if part else "--\n" for part in _wrap(line))


def _wrap(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False,
                         subsequent_indent="  ") or [""]


def up_text(context: Context) -> str:
    step, fmt = context.step, context.format
    statements = list(step.statements)
    set_timeout = f"SET lock_timeout = {literal(context.lock_timeout)}"
    if step.transactional:
        if fmt == "sql" and len(statements) > 1:
            statements = [set_timeout, "BEGIN", *statements, "COMMIT"]
        else:
            statements = [set_timeout, *statements]
    elif _alone(step) and WRITERS[fmt].statement_by_statement:
        statements = [set_timeout, *statements]
    return "".join(s + ";\n" for s in statements)


def down_text(context: Context) -> str:
    step = context.step
    if step.down is None and step.irreversible:
        return f"-- Irreversible: {step.irreversible}.\n"
    if not step.down:
        return "-- Nothing to revert: the step changed no schema the earlier steps rely on.\n"
    statements = list(step.down)
    if step.transactional and len(statements) > 0:
        statements = [f"SET lock_timeout = {literal(context.lock_timeout)}", *statements]
    return "".join(s + ";\n" for s in statements)
