"""Each migration with its backward part, as its tool would run them: the chains `verify` walks.

    chains, problems = read_chains(paths, config)

A `Chain` is one history in run order; each `Step` holds the forward migration, its `Backward`
(the part the tool runs to undo it, or why there is none) and, for sqitch, the `verify/` script
run after each deploy. Where the backward parts come from:

    golang-migrate, popx    NNN_name.down.sql                 History.reverse
    diesel, Prisma          <folder>/down.sql                 History.reverse
    Flyway                  U<version>__name.sql              History.reverse
    sqitch                  revert/<change>.sql               History.reverse (verify/ from sqitch.conf)
    goose, sql-migrate,     the file's Down part              History.reverse, options["part"] = "down"
    dbmate
    Alembic                 downgrade(), rendered offline     meta["downgrade"]
    Django                  sqlmigrate --backwards            meta["backward"]

Problems are input errors (exit 2): a file that cannot be read or parsed, forward or backward.
"""
from __future__ import annotations

import ast
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..model import Finding, Migration
from ..sources import sqitch
from ..sources.build import build_migration
from ..sources.entries import Entry
from ..sources.plan import ALEMBIC, DJANGO, Plan
from ..sources.registry import FORMATS
from ..sources.versions import same_version

# How each tool names the part that undoes a migration, in messages ("revert of add_index").
WORDS = {"flyway": "undo", "sqitch": "revert", ALEMBIC: "downgrade()", DJANGO: "backwards"}
SAME_FILE = {"goose", "sql-migrate", "dbmate"}
MISSING = {
    "golang-migrate": "no .down.sql file",
    "popx": "no .down.sql file",
    "diesel": "no down.sql in its folder",
    "prisma": "no down.sql in its folder",
    "flyway": "no U{version}__ undo script",
    "goose": "no '-- +goose Down' part",
    "sql-migrate": "no '-- +migrate Down' part",
    "dbmate": "no '-- migrate:down' section",
    ALEMBIC: "no downgrade() function",
}

_NONE = "no backward part: the {fmt} layout has none"


@dataclass
class Backward:
    label: str  # "down of 000002_add_index.down.sql", in every message about it
    migration: Migration | None = None
    missing: str = ""  # there is none: why (info)
    irreversible: str = ""  # the tool's own declaration that it cannot be undone, said after the label (info)
    declared_line: int = 1  # where, in the forward migration's file, a declaration or absence is seen
    notes: list[Finding] = field(default_factory=list)  # what reading it said (info)

    @property
    def path(self) -> str:
        return self.migration.path if self.migration is not None else ""

    @property
    def line(self) -> int:
        """Where messages about the whole part point: its first statement."""
        if self.migration is not None and self.migration.statements:
            return self.migration.statements[0].line
        return 1


@dataclass
class Step:
    forward: Migration
    name: str  # "000002_add_index.up.sql", "b2c0ffee0002", "shop.0005_widen_note"
    backward: Backward
    checks: list[Migration] = field(default_factory=list)  # sqitch verify scripts
    context: bool = False  # read for the schema only (Django's contrib apps, files before the one named)


@dataclass
class Chain:
    key: str
    root: str  # the user's spelling of the history's folder
    format: str
    steps: list[Step] = field(default_factory=list)


def read_chains(paths: list[str], config: Config) -> tuple[list[Chain], list[Finding]]:
    config = dataclasses.replace(config, cache=False)  # every migration read and parsed, none a placeholder
    plan = Plan(config, backward=True)
    for given in paths:
        plan.add(given)
    migrations = plan.migrations()
    problems = [f for f in plan.findings if f.severity == "error"]
    chains: dict[str, Chain] = {}
    for migration in migrations:
        if migration.kind == "undo":  # a down file named on its own: its migration has one already
            continue
        key = migration.meta.get("history", "")
        chain = chains.get(key)
        if chain is None:
            chain = chains[key] = Chain(key, _root_of(plan, key, migration), migration.format)
        step = _step(plan, key, migration, config)
        chain.steps.append(step)
        for part in [step.forward, step.backward.migration, *step.checks]:
            if part is None:
                continue
            problems.extend(f for f in part.findings if f.severity == "error")
            unparsed = any(s.node is None for s in part.statements)
            if unparsed or (part.broken and not any(f.severity == "error" for f in part.findings)):
                part.broken = True  # nothing after it can be run as its tool would
                problems.append(_unparsed(part))
    return list(chains.values()), problems


def _root_of(plan: Plan, key: str, migration: Migration) -> str:
    """The user's spelling of the history's folder (the project's, for Alembic and Django)."""
    project = plan.django.get(key)
    if migration.format == ALEMBIC:  # its history key is the script location the project resolved to
        found = [shown for layout, shown in plan.alembic.values()
                 if key in (str(layout.script_location), str(layout.folder))] or [
                     shown for _, shown in plan.alembic.values()][: len(plan.alembic) == 1]
        project = (None, found[0]) if found else None
    if project is not None:
        return project[1] or "."
    request = plan.requests.get(key)
    if request is not None:
        return request.display_root or "."
    return os.path.dirname(migration.path) or "."


def _unparsed(migration: Migration) -> Finding:
    statement = next((s for s in migration.statements if s.node is None), None)
    line = statement.line if statement is not None else 1
    why = statement.parse_error if statement is not None and statement.parse_error else "it could not be read"
    return Finding(rule="MS099", name="input-error", severity="error", message=f"cannot run this file: {why}",
                   path=migration.path, line=line)


def _step(plan: Plan, key: str, migration: Migration, config: Config) -> Step:
    context = bool(migration.meta.get("context"))
    if migration.format == ALEMBIC:
        name = migration.version
        return Step(migration, name, _alembic_backward(migration, name), context=context)
    if migration.format == DJANGO:
        return Step(migration, migration.version, _django_backward(migration), context=context)
    request = plan.requests[key]
    history = plan.histories.get((request.root, request.format))
    file = Path(migration.meta["file"])
    entry = next((e for e in history.forward if e.file == file), None) if history else None
    name = entry.rel if entry is not None and migration.format in ("diesel", "prisma") else file.name
    if entry is None:
        return Step(migration, name, Backward(f"down of {name}", missing=_NONE.format(fmt=migration.format)),
                    context=context)
    fmt = FORMATS[request.format]
    undo = _reverse_entry(history.reverse, entry, request.format)
    step = Step(migration, name, Backward(""), context=context)
    if request.format == "sqitch":
        step.name = entry.version
        step.checks = _sqitch_checks(history.root, entry, fmt, request.display_root, config)
    if undo is None:
        step.backward = _missing(request.format, entry, step.name)
        return step
    undo_name = file.name if request.format in SAME_FILE else entry.version if request.format == "sqitch" else (
        undo.rel if request.format in ("diesel", "prisma") else undo.file.name)
    backward = build_migration(undo, fmt, request.display_root, config)
    step.backward = Backward(f"{WORDS.get(request.format, 'down')} of {undo_name}", backward,
                             notes=[f for f in backward.findings if f.severity != "error"])
    return step


def _reverse_entry(reverse: list[Entry], entry: Entry, fmt: str) -> Entry | None:
    """The backward part of `entry`: the same file's other part, or the file of the same version
    (in the same folder when several are)."""
    if fmt in SAME_FILE:
        return next((e for e in reverse if e.file == entry.file), None)
    matches = [e for e in reverse if same_version(fmt, e.version, entry.version)]
    return next((e for e in matches if e.file.parent == entry.file.parent), matches[0] if matches else None)


def _missing(fmt: str, entry: Entry, name: str) -> Backward:
    word = WORDS.get(fmt, "down")
    if fmt == "sqitch":
        return Backward(f"revert of {name}",
                        irreversible="does not exist: without a revert script, sqitch cannot revert the change")
    if fmt == "flyway" and entry.kind != "versioned":
        return Backward(f"undo of {name}", missing=f"a {entry.kind} migration has no undo in Flyway")
    why = MISSING.get(fmt, _NONE).format(version=entry.version, fmt=fmt)
    return Backward(f"{word} of {name}", missing=why)


def _sqitch_checks(root: Path, entry: Entry, fmt, display_root: str, config: Config) -> list[Migration]:
    found = sqitch.settings(root)
    script = found.verify_dir / f"{entry.version}.{found.extension}"
    if not script.is_file():
        return []
    rel = os.path.relpath(script, root)
    check = Entry(file=script, rel=rel, version=entry.version, description=entry.description, kind="verify")
    return [build_migration(check, fmt, display_root, config)]


def _alembic_backward(migration: Migration, name: str) -> Backward:
    label = f"downgrade() of {name}"
    declared, line = _alembic_declaration(migration.text)
    down = migration.meta.get("downgrade")
    if declared == "missing" or down is None:
        return Backward(label, missing=MISSING[ALEMBIC])
    if declared and migration.statements:  # a merge revision's `pass` both ways undoes nothing: nothing to undo
        return Backward(label, irreversible=declared, declared_line=line)
    return Backward(label, down, notes=[f for f in down.findings if f.severity != "error"])


def _alembic_declaration(source: str) -> tuple[str, int]:
    """How a revision's own downgrade() says it cannot be undone, and its line: "" when it does not
    say so, "missing" when there is no downgrade()."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", 1  # the rendering reports it
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"), None)
    if function is None:
        return "missing", 1
    body = [n for n in function.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                             and isinstance(n.value.value, str))]
    if all(isinstance(n, ast.Pass) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                       and n.value.value is Ellipsis) for n in body):
        return "does nothing (pass): the revision is declared irreversible", function.lineno
    if len(body) == 1 and isinstance(body[0], ast.Raise):
        return "only raises: the revision is declared irreversible", function.lineno
    return "", function.lineno


def _django_backward(migration: Migration) -> Backward:
    label = f"backwards of {migration.version}"
    down = migration.meta.get("backward")
    if down is None:
        return Backward(label, missing="Django gave no backward SQL for it")
    if down.meta.get("irreversible"):
        return Backward(label, irreversible=f"is refused by Django: {down.meta['irreversible']}",
                        declared_line=down.meta.get("irreversible_line", 1))
    return Backward(label, down, notes=[f for f in down.findings if f.severity != "error"])
