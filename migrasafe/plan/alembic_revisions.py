"""A plan as Alembic revisions: ids from Alembic itself, chained to the project's current head.

Alembic runs a whole `upgrade` in one transaction unless env.py sets
`transaction_per_migration=True`. So a step that must have a transaction of its own starts with
an empty `autocommit_block()`: Alembic commits what came before it, and begins a new transaction
after it for the step's statements. Steps that cannot run in a transaction block run inside the
`autocommit_block()`.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from .errors import PlanError
from .render import Context, KINDS, PlannedFile, PlannedMigration, deploy_line, _wrap
from .sql import literal, slug as make_slug
from .steps import Plan, Step

SUPPRESSION = re.compile(r"^--\s*(migrasafe:.*)$")


def script_directory(layout):
    """Alembic's ScriptDirectory for the project (imports Alembic: only for Alembic projects)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        if layout.ini is not None:
            config = AlembicConfig(str(layout.ini))
            if layout.script_location is not None:
                config.set_main_option("script_location", str(layout.script_location))
            return ScriptDirectory.from_config(config)
        if layout.script_location is None:
            raise PlanError(f"{layout.folder}: the script location is a package resource; name its folder")
        return ScriptDirectory(str(layout.script_location))
    except CommandError as err:
        raise PlanError(f"{layout.folder}: {err}") from None


def current_head(script) -> str | None:
    from alembic.util import CommandError

    try:
        heads = script.get_heads()
    except CommandError as err:
        raise PlanError(f"the revision history cannot be read: {err}") from None
    if len(heads) > 1:
        raise PlanError(f"the project has {len(heads)} heads ({', '.join(heads)}): merge them first "
                        f"(alembic merge heads) so the plan has one revision to follow")
    return heads[0] if heads else None


def render_revisions(plan: Plan, layout, project_folder: Path, lock_timeout: str, per_migration: bool,
                     now: datetime | None = None) -> list[PlannedMigration]:
    from alembic.util import rev_id

    script = script_directory(layout)
    previous = current_head(script)
    now = now or datetime.now(timezone.utc)
    out = []
    taken = {s.revision for s in script.walk_revisions()}
    for number, step in enumerate(plan.steps, 1):
        revision = rev_id()
        while revision in taken:
            revision = rev_id()
        taken.add(revision)
        message = make_slug(step.slug)
        path = _revision_path(script, revision, message, now)
        context = Context(plan, step, number, "alembic", lock_timeout, previous or "base")
        text = revision_text(context, revision, previous, now, per_migration)
        try:
            rel = str(Path(path).resolve().relative_to(project_folder.resolve()))
        except ValueError:
            raise PlanError(f"the versions folder {Path(path).parent} is outside {project_folder}") from None
        planned = PlannedMigration(step, number, revision, [PlannedFile(rel, text)])
        out.append(planned)
        previous = revision
    return out


def _revision_path(script, revision: str, message: str, now: datetime) -> str:
    """Where `alembic revision` would put it: the project's file_template in its versions folder."""
    try:
        return script._rev_path(script.versions, revision, message, now)
    except (AttributeError, TypeError):
        return str(Path(script.versions) / f"{revision}_{message}.py")


def revision_text(context: Context, revision: str, down_revision: str | None, now: datetime,
                  per_migration: bool) -> str:
    step, plan = context.step, context.plan
    lines = [f"Deploy before running: {deploy_line(plan, context.number - 1)}",
             f"migrasafe plan {plan.operation}: {plan.summary}",
             f"Step {context.number} of {len(plan.steps)} ({step.kind}: {KINDS[step.kind]}): {step.title}."]
    lines += step.notes
    lines.append(_lock_line(context))
    lines.append(_retry_line(step))
    header = "".join(f"# {part}\n" if part else "#\n" for line in lines for part in _wrap(line))
    upgrade = _body(step.statements, step, context.lock_timeout, per_migration, reverting=False)
    if step.down is None and step.irreversible:
        downgrade = f"    # Irreversible: {step.irreversible}.\n    pass\n"
    elif not step.down:
        downgrade = "    # Nothing to revert: the step changed no schema the earlier steps rely on.\n    pass\n"
    else:
        downgrade = _body(step.down, step, context.lock_timeout, per_migration, reverting=True)
    title = step.title[:1].upper() + step.title[1:]
    return (f'{header}"""{_docstring(title)}\n\nRevision ID: {revision}\nRevises: {down_revision or ""}\n'
            f'Create Date: {now.strftime("%Y-%m-%d %H:%M:%S")}\n\n"""\n'
            f"from alembic import op\nimport sqlalchemy as sa\n\n"
            f"# revision identifiers, used by Alembic.\nrevision = {revision!r}\n"
            f"down_revision = {down_revision!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{upgrade}\n\ndef downgrade():\n{downgrade}")


def _lock_line(context: Context) -> str:
    timeout = literal(context.lock_timeout)
    if context.step.own_lock_timeout:
        return f"lock_timeout: {timeout}, set inside the DO block (it runs in an autocommit block)."
    return f"lock_timeout: {timeout}, so a blocked lock request gives up instead of queueing traffic behind it."


def _retry_line(step: Step) -> str:
    rerun = "run `alembic upgrade head` again: the revisions before this one are committed and stamped"
    if step.transactional:
        return f"If it fails (a lock_timeout included), its transaction rolls back: {rerun}."
    what = f"{step.retry}. To rerun: " if step.retry else ""
    return f"If it fails: {what}{rerun}."


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _body(statements: list[str], step: Step, lock_timeout: str, per_migration: bool, reverting: bool) -> str:
    out = []
    indent = "    "
    outside = not step.transactional
    if outside:
        out.append(f"{indent}with op.get_context().autocommit_block():")
        indent += "    "
        if not step.own_lock_timeout or reverting:
            out.append(f"{indent}op.execute({_python_string('SET lock_timeout = ' + literal(lock_timeout))})")
    else:
        if not per_migration:
            out.append(f"{indent}# Commit what the revisions before this one did: this step gets a transaction of its own.")
            out.append(f"{indent}with op.get_context().autocommit_block():")
            out.append(f"{indent}    pass")
        out.append(f"{indent}op.execute({_python_string('SET lock_timeout = ' + literal(lock_timeout))})")
    for statement in statements:
        comments, sql = _split_comments(statement)
        # Only upgrade() is checked: a directive in downgrade() would be reported as unused.
        for comment in comments if not reverting else ():
            out.append(f"{indent}# {comment}")
        out.append(f"{indent}op.execute(sa.text({_python_string(_escape_binds(sql))}))")
    return "\n".join(out) + "\n"


def _split_comments(statement: str) -> tuple[list[str], str]:
    """Leading `-- migrasafe: ...` lines become Python comments above the op call."""
    lines = statement.split("\n")
    comments = []
    while lines and SUPPRESSION.match(lines[0]):
        comments.append(SUPPRESSION.match(lines[0]).group(1))
        lines.pop(0)
    return comments, "\n".join(lines)


def _escape_binds(sql: str) -> str:
    """`sa.text` reads `:name` as a bind parameter; a literal colon is written `\\:`."""
    return re.sub(r"(?<![:\\]):(?=[A-Za-z_])", r"\\:", sql)


def _python_string(text: str) -> str:
    if "\n" in text and '"""' not in text and not text.endswith('"') and not text.endswith("\\"):
        return 'r"""' + text + '"""' if "\\" in text else '"""' + text + '"""'
    return repr(text)
