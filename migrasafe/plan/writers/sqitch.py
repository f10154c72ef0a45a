"""sqitch: a new change is `deploy/`, `revert/` and `verify/` scripts plus its line in sqitch.plan.

psql runs each script as written (App::Sqitch::Engine::pg), so a transactional script brings its
own BEGIN/COMMIT, as sqitch's templates do, and a statement that cannot run in a transaction block
goes in a script without one. sqitch has no per-script opt-out: `fix` moves such a statement out of
the script's BEGIN/COMMIT into a new change planned right after it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from .base import NewMigration, Writer

STAMP = "%Y-%m-%dT%H:%M:%SZ"


def main_file(version: str, slug: str, separator: str) -> str:
    return f"deploy/{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    name = Path(new.rel).stem
    rest = new.rel[len("deploy/"):] if new.rel.startswith("deploy/") else Path(new.rel).name
    up, down = new.up, new.down
    if new.transactional:
        up = f"BEGIN;\n\n{up}\nCOMMIT;\n"
        if _has_statements(down):
            down = f"BEGIN;\n\n{down}\nCOMMIT;\n"
    verify = (f"-- Verify {name} on pg\n\nBEGIN;\n\n-- Queries here that fail when {name} is not deployed.\n\n"
              "ROLLBACK;\n")
    return [(new.rel, f"-- Deploy {name} to pg\n{new.header}\n{up}"),
            (f"revert/{rest}", f"-- Revert {name} from pg\n\n{down}"),
            (f"verify/{rest}", verify)]


def _has_statements(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("--") for line in text.splitlines())


def _plan_of(root: Path):
    from ...sources import sqitch
    from ..errors import PlanError

    found = sqitch.settings(root.resolve())
    defaults = root.resolve()
    if (found.deploy_dir, found.revert_dir, found.verify_dir) != (defaults / "deploy", defaults / "revert",
                                                                   defaults / "verify"):
        raise PlanError("sqitch.conf moves the deploy, revert or verify folder: new changes are written only "
                        "in the default layout (deploy/, revert/, verify/ beside sqitch.plan)")
    text = found.plan_file.read_bytes().decode("utf-8")
    project, changes, _ = sqitch.parse_plan(text, sqitch.PLAN)
    return found, text, changes


def _planner(text: str, line: int) -> str:
    """`Name <email>` of a plan line, for the new lines (sqitch requires one)."""
    from ...sources.sqitch import _CHANGE

    match = _CHANGE.match(text.splitlines()[line - 1].strip()) if line else None
    if match is None:
        return "migrasafe <migrasafe@localhost>"
    return f"{match.group('planner')} <{match.group('email')}>"


def _plan_line(name: str, requires: str, when: datetime, planner: str, note: str) -> str:
    deps = f" [{requires}]" if requires else ""
    return f"{name}{deps} {when.strftime(STAMP)} {planner} # {' '.join(note.split())}"


def list_new(layout, migrations, now) -> list[tuple[str, str, str]]:
    """Plan lines for the planned changes, appended to sqitch.plan, each requiring the one before."""
    from ..errors import PlanError

    found, text, changes = _plan_of(layout.root)
    names = {c.name for c in changes}
    previous = changes[-1].name if changes else ""
    planner = _planner(text, changes[-1].line if changes else 0)
    when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    lines = []
    for number, planned in enumerate(migrations):
        name = Path(planned.main).stem
        if name in names:
            raise PlanError(f"sqitch.plan already has a change named {name}; nothing was written")
        lines.append(_plan_line(name, previous, when + timedelta(seconds=number), planner, planned.step.title))
        names.add(name)
        previous = name
    after = text + ("" if text.endswith("\n") or not text else "\n") + "".join(line + "\n" for line in lines)
    return [(str(found.plan_file.relative_to(layout.root.resolve())), text, after)]


def add_to_history(fixer, groups) -> list | None:
    """New changes right after the fixed one: their scripts, and their lines in sqitch.plan."""
    from ...sources import sqitch
    from ..fix import FileChange, _display, _migration_files
    from ..errors import PlanError
    from ..sql import slug

    root = Path(fixer.migration.meta["history"])
    where = fixer.migration.path
    entry = next((e for e in sqitch.list_history(root.resolve()).forward if e.file == fixer.path.resolve()), None)
    if entry is None or "@" in entry.version:
        fixer.fixes.notes.append(f"{where}: not fixed: the script of an earlier instance of a reworked change "
                                 "runs only on databases that deploy it again; move the statement by hand")
        return None
    try:
        found, text, changes = _plan_of(root)
    except PlanError as err:
        fixer.fixes.notes.append(f"{where}: not fixed: {err}")
        return None
    names = {c.name for c in changes}
    line = entry.options["plan_line"]
    planner = _planner(text, line)
    when = datetime.now(timezone.utc).replace(microsecond=0)
    out, plan_lines, previous = [], [], entry.version
    for number, (description, statements, down, transactional) in enumerate(groups):
        name = slug(f"{entry.version}_{description}")
        if name in names:
            fixer.fixes.notes.append(f"{where}: not fixed: sqitch.plan already has a change named {name}")
            return None
        names.add(name)
        for rel, body in _migration_files("sqitch", f"deploy/{name}.sql", statements, down, transactional,
                                          fixer.timeout, where):
            target = root / rel
            out.append(FileChange(target, _display(where, target), "", body, new=True))
        why = "runs outside a transaction block" if not transactional else "runs in its own transaction"
        plan_lines.append(_plan_line(name, previous, when + timedelta(seconds=number), planner,
                                     f"Moved out of {entry.version} by migrasafe fix: {why}"))
        previous = name
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[line - 1].endswith("\r\n") else "\n"
    if not lines[line - 1].endswith(("\n", "\r")):
        lines[line - 1] += newline
    lines[line:line] = [p + newline for p in plan_lines]
    out.append(FileChange(found.plan_file, _display(where, found.plan_file), text, "".join(lines)))
    later = [c.name for c in changes if c.line > line]
    if later:
        fixer.fixes.notes.append(f"{where}: the new change {plan_lines[0].split()[0]} is planned right after "
                                 f"{entry.version}, before {later[0]}: a database that already deployed "
                                 f"{later[0]} will not deploy it (sqitch deploys the changes after the last one "
                                 "deployed)")
    out += _revert_without_moved_indexes(fixer, root, entry, groups)
    return out


def _revert_without_moved_indexes(fixer, root: Path, entry, groups) -> list:
    """The fixed change no longer creates the moved indexes: its revert script must not drop them
    (the new change's revert does), or reverting it would fail."""
    from pglast import ast

    from ...parse import split_statements
    from ...sources import sqitch
    from ..fix import FileChange, _display

    moved = set()
    for _, statements, _, transactional in groups:
        for sql in statements:
            node = split_statements(sql)[0].node
            if isinstance(node, ast.IndexStmt) and node.idxname:
                moved.add(node.idxname)
    revert = sqitch.settings(root.resolve()).revert_dir / f"{entry.version}.sql"
    if not moved or not revert.is_file():
        return []
    text = revert.read_bytes().decode("utf-8")
    cut = []
    for statement in split_statements(text):
        node = statement.node
        if (isinstance(node, ast.DropStmt) and len(node.objects or ()) == 1
                and node.objects[0][-1].sval in moved):
            start = _offset(text, statement.line, statement.column)
            end = start + len(statement.sql)
            end = end + 1 if text[end:end + 1] == ";" else end
            end = end + 1 if text[end:end + 1] == "\n" else end
            cut.append((start, end))
    if not cut:
        return []
    after = text
    for start, end in reversed(cut):
        after = after[:start] + after[end:]
    return [FileChange(revert, _display(fixer.migration.path, revert), text, after)]


def _offset(text: str, line: int, column: int) -> int:
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at + column - 1


WRITER = Writer(
    format="sqitch", main_file=main_file, files=files,
    rerun="fix the script, then run `sqitch deploy` again",
    statement_by_statement=True, last_version=lambda versions: "", first_timestamp="%Y%m%d%H%M%S",
    add_to_history=add_to_history, list_new=list_new,
)
