"""An Alembic project → one `Migration` per revision, in the order `alembic upgrade` runs them.

    migrations, findings = read_project(layout, config, "proj", named={file: spelling})

`folder_spelling` is the user's spelling of `layout.folder`; revision paths are shown from it.

With `named` empty the whole history is checked (or the `--from`/`--to` range of it); otherwise
the named revisions are, after the revisions they build on, which are read for their schema only.
With `downgrade=True` each revision's downgrade() is rendered too, as `alembic downgrade --sql`
would send it, into `meta["downgrade"]` (a `Migration` of kind "undo"; `migrasafe verify`).

The project's code (revision modules, the application they import) never runs in this process:
worker.py loads and renders it in a child process (migrasafe.sandbox) with a time limit per
revision and for the run, no network, and the user's files read-only. A revision that ends that
process, hangs or is killed is reported on its own file and line, and a new child goes on with
the revisions after it. Only plain data comes back; the SQL is split and parsed here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ...config import Config
from ...model import Finding, Migration, Statement
from ...parse import split_statements
from ...sandbox import Failure, Limits, Outcome, Sandbox
from ...sandbox.guard import REASONS
from ..exclude import is_excluded
from ..findings import input_error
from ..reading import UnreadableFile, read_text
from .envpy import EnvFacts, read_env
from .layout import Layout
from .settings import AlembicSettings, alembic_settings

FORMAT = "alembic"
NOT_RENDERED = ("MS096", "alembic-not-rendered", "info")
REVISION_WARNING = ("MS087", "revision-warning", "info")
WORKER = "migrasafe.sources.alembic.worker:work"
BARE = ("migrasafe.sources",)  # the worker needs only this package; the source registry stays unloaded
_WHILE = {"load": "while the revision loads", "render": "while upgrade() renders"}


@dataclass
class Project:
    script_location: Path
    display_root: str  # the user's spelling of the script location

    @property
    def key(self) -> str:
        return str(self.script_location)

    def display(self, file: Path) -> str:
        try:
            rel = file.relative_to(self.script_location)
        except ValueError:
            return os.path.relpath(file)
        return os.path.join(self.display_root, str(rel)) if self.display_root else str(rel)


@dataclass
class _Run:
    """What the children told, gathered across the children one project needed."""

    project: dict | None = None
    graph: dict | None = None
    error: dict | None = None  # the graph cannot be built
    renderings: dict[str, dict] = field(default_factory=dict)  # by resolved file
    unloadable: dict[str, dict] = field(default_factory=dict)  # file → {"line", "message"}: not loaded again
    failed: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # file → (line, message, fix)
    warnings: list[dict] = field(default_factory=list)
    refusals: list[dict] = field(default_factory=list)
    stopped: Failure | None = None  # a failure no revision accounts for: the rest is not checked

    def take(self, outcome: Outcome) -> None:
        for data in outcome.data:
            kind = data["type"]
            if kind == "rendering":
                self.renderings[data["file"]] = data
            else:
                setattr(self, kind, data)
        # Each child loads the revisions again: what their loading said is kept once.
        self.warnings += [w for w in outcome.warnings if w not in self.warnings]
        self.refusals += [r for r in outcome.refusals if r not in self.refusals]

    def recover(self, failure: Failure, settings: AlembicSettings) -> bool:
        """Record a child's failure on the revision it was running; whether to start another."""
        stage, _, file = (failure.step or "").partition(":")
        if failure.kind == "run-timeout" or stage not in ("load", "render") or self.error:
            self.stopped = failure
            return False
        if file in self.unloadable or file in self.failed:
            self.stopped = failure  # the same file failed twice: do not go round again
            return False
        message, fix = _failure_text(failure, settings)
        if stage == "load":
            self.unloadable[file] = {"line": failure.line or 1, "message": message}
        else:
            self.failed[file] = (failure.line or 1, message, fix)
        return True


def read_project(layout: Layout, config: Config, folder_spelling: str,
                 named: dict[Path, str] | None = None, downgrade: bool = False) -> tuple[list[Migration], list[Finding]]:
    settings = alembic_settings(config.alembic, config.root)
    named = named or {}
    run = _Run()
    payload = {
        "layout": {"folder": str(layout.folder), "script_location": _text(layout.script_location),
                   "ini": _text(layout.ini), "pyproject": _text(layout.pyproject), "resource": layout.resource},
        "settings": {"sys_path": None if settings.sys_path is None else [str(p) for p in settings.sys_path],
                     "script_location": _text(settings.script_location),
                     "start": settings.start, "stop": settings.stop,
                     # Revision folders found on disk (layout.py) when no configuration names them.
                     "version_locations": None if layout.version_locations is None
                     else [str(p) for p in layout.version_locations]},
        "named": [str(f) for f in named],
        "downgrade": downgrade,
    }
    with Sandbox(Limits(settings.revision_time_limit, settings.run_time_limit)) as sandbox:
        while True:
            try:
                outcome = sandbox.run(WORKER, {**payload, "unloadable": run.unloadable,
                                               "rendered": [*run.renderings, *run.failed]}, bare=BARE)
            except OSError as err:  # the child could not even start
                outcome = Outcome(failure=Failure("error", f"the process that reads it did not start: {err}"))
            run.take(outcome)
            if outcome.failure is None or not run.recover(outcome.failure, settings):
                break
    where = folder_spelling or "."
    if run.project is None:
        message = run.error["message"] if run.error else _stopped_text(run.stopped, "reading the project")
        return [], [input_error(where, message)]
    location = Path(run.project["script_location"])
    project = Project(location, _spelling_of(location, layout.folder, folder_spelling))
    findings: list[Finding] = []
    if run.error is not None:
        path = run.error["path"]
        spot = project.display(Path(path).resolve()) if path else project.display_root or "."
        return [], [input_error(spot, run.error["message"], run.error["line"])]
    if run.graph is None:
        return [], [input_error(project.display_root or ".", _stopped_text(run.stopped, "loading the revisions"))]
    graph = run.graph
    findings += [
        input_error(spelling, f"not an Alembic revision of {project.display_root or project.script_location}; "
                              f"name a revision file or the project folder")
        for file, spelling in named.items() if str(file) in graph["not_revisions"]
    ]
    env = read_env(project.script_location)
    setup = _session_setup(env, settings, config, findings)
    # One upgrade runs the revisions of a range the user gave (--from, or revision files by
    # name); a whole history was applied over many deploys, each upgrade on its own.
    ranged = bool(named) or settings.start is not None or config.changed is not None
    reader = _Reader(project, run, config, env, settings, setup, ranged)
    migrations = [reader.migration(entry, named) for entry in graph["order"]]
    for message in graph["warnings"]:
        findings.append(input_error(project.display_root or ".", " ".join(message.split())))
    findings += _project_findings(run, project.display_root or ".")
    return migrations, findings


def _project_findings(run: _Run, where: str) -> list[Finding]:
    """Warnings and refusals while the project itself was set up, before any revision loaded."""
    out = []
    for warning in run.warnings:
        if warning["key"] == "project":
            out.append(Finding(rule=REVISION_WARNING[0], name=REVISION_WARNING[1], severity=REVISION_WARNING[2],
                               message=f"{warning['category']} while the project loads: {warning['message']}",
                               path=where, line=1))
    for refusal in run.refusals:
        if refusal["key"] in ("project", None):
            out.append(Finding(rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2],
                               message=f"{refusal['message']} was refused ({REASONS[refusal['kind']]})",
                               path=where, line=1))
    return out


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _spelling_of(location: Path, folder: Path, folder_spelling: str) -> str:
    """The user's spelling of the script location, from their spelling of the project folder."""
    if location == folder:
        return folder_spelling
    if location.is_relative_to(folder):
        return os.path.join(folder_spelling, str(location.relative_to(folder)))
    return os.path.relpath(location)


def _failure_text(failure: Failure, settings: AlembicSettings) -> tuple[str, str]:
    """A load failure is told after "cannot load the revision: "; a rendering failure on its own."""
    stage = "" if failure.step.startswith("load:") else "rendering its upgrade(): "
    if failure.kind == "step-timeout":
        return (f"{stage}it {failure.message} (revision_time_limit = {settings.revision_time_limit:g} in "
                f"[tool.migrasafe.alembic]), so it was stopped; the revisions after it are still checked",
                "make the revision's code finish without a database (an endless loop, a wait on the network), "
                "or raise [tool.migrasafe.alembic] revision_time_limit")
    if failure.kind == "error":
        return (f"{stage}it raised {failure.message}; nothing of this revision is checked, the revisions after it "
                f"are", "")
    return (f"{stage}{failure.message}; nothing of this revision is checked, the revisions after it are",
            "revision code must not end or kill the process that runs it: raise an exception instead, which "
            "migrasafe reports with the line")


def _stopped_text(failure: Failure | None, doing: str) -> str:
    if failure is None:
        return f"{doing}: the process that runs the project's code ended without a result"
    if failure.kind == "run-timeout":
        return f"{doing}: {failure.message} (run_time_limit in [tool.migrasafe.alembic])"
    if failure.kind == "error":
        return f"{doing} failed inside migrasafe; please report it: {failure.message}"
    return f"{doing}: {failure.message}"


def _session_setup(env: EnvFacts, settings: AlembicSettings, config: Config,
                   findings: list[Finding]) -> list[Statement]:
    """What runs on the connection before the first revision: env.py's SETs, then the preamble."""
    pieces = [(sql, env.path, line) for sql, line in env.settings]
    pieces += [(sql, config.source, 1) for sql in settings.preamble]
    out: list[Statement] = []
    for sql, origin, line in pieces:
        try:
            statements = split_statements(sql)
        except Exception as err:  # a preamble is user input; it must not stop the run
            statements, problem = [], str(err)
        else:
            problem = next((s.parse_error for s in statements if s.node is None), None)
        if problem:
            where = str(origin or "[tool.migrasafe.alembic]")
            findings.append(input_error(where, f"alembic preamble {sql!r} does not parse: {problem}", line))
            continue
        for statement in statements:
            statement.line, statement.end_line, statement.origin_path = line, line, str(origin or "")
        out.extend(statements)
    return out


class _Reader:
    def __init__(self, project: Project, run: _Run, config: Config, env: EnvFacts, settings: AlembicSettings,
                 setup: list[Statement], ranged: bool):
        self.project, self.run, self.config = project, run, config
        self.setup, self.ranged = setup, ranged
        self.per_migration, self.reason = _transaction_mode(env, settings, config)
        if not ranged:
            self.reason += ("; the history was applied over many deploys, so each revision is checked as "
                            "its own upgrade (--from REV checks the revisions after REV as one)")
        self.run_started = False

    def migration(self, entry: dict, named: dict[Path, str]) -> Migration:
        file = Path(entry["file"])
        display = named.get(file) or self.project.display(file)
        reported = entry["reported"]
        if is_excluded(file, self.config.exclude, self.config.root):
            reported = False
        migration = Migration(
            path=display, format=FORMAT, version=entry["revision"], description=entry["doc"],
            in_transaction=True, transaction_reason=self.reason,
            meta={"revision": entry["revision"], "history": self.project.key, "file": str(file),
                  "context": not reported, "down_revisions": entry["down_revisions"],
                  "session_setup": self.setup, "heads": self.run.graph.get("heads", [])},
        )
        # With --since, the upgrade the pull request ships starts at its first changed revision.
        starts = reported and (self.config.changed is None or file in self.config.changed)
        self.run_started = self.run_started or starts
        if self.run_started and self.ranged:
            # One connection runs the whole upgrade: session settings carry from revision to revision,
            # and so does the transaction unless each revision has its own.
            migration.meta["session"] = f"{FORMAT}:{self.project.key}"
            migration.meta["shared_transaction"] = not self.per_migration
        try:
            migration.text = read_text(file)
        except UnreadableFile as err:
            migration.findings.append(input_error(display, err.message, err.line))
            migration.broken = True
            return migration
        refusals = self._sandbox_findings(migration, str(file))
        problem = self.run.graph["load_errors"].get(str(file))
        rendering = self.run.renderings.get(str(file))
        if problem is not None:
            error = input_error(display, f"cannot load the revision: {problem['message']}", problem["line"])
        elif str(file) in self.run.failed:
            line, message, fix = self.run.failed[str(file)]
            error = input_error(display, message, line, fix=fix)
        elif rendering is None:
            error = input_error(display, _stopped_text(self.run.stopped, "not checked"))
        else:
            self._render(rendering, migration, refusals)
            if "downgrade" in rendering:
                migration.meta["downgrade"] = self._downgrade(migration, rendering["downgrade"])
            return migration
        migration.findings.append(error)
        migration.broken = True
        self._notes(migration, _refusal_notes(refusals, [{"line": error.line, "message": error.message}]))
        return migration

    def _downgrade(self, migration: Migration, rendering: dict) -> Migration:
        down = Migration(path=migration.path, format=FORMAT, version=migration.version,
                         description=migration.description, kind="undo", in_transaction=True,
                         transaction_reason=self.reason, text=migration.text,
                         meta={k: migration.meta[k] for k in ("revision", "history", "file", "session_setup")})
        self._render(rendering, down, [])
        return down

    def _sandbox_findings(self, migration: Migration, file: str) -> None:
        """Warnings the revision raised, and what it tried that the sandbox refused."""
        for warning in self.run.warnings:
            stage, _, of = (warning["key"] or "").partition(":")
            if of == file and stage in _WHILE:
                migration.findings.append(Finding(
                    rule=REVISION_WARNING[0], name=REVISION_WARNING[1], severity=REVISION_WARNING[2],
                    message=f"{warning['category']} {_WHILE[stage]}: {warning['message']}",
                    path=migration.path, line=warning["line"] or 1,
                    fix="not an error: the revision was still rendered and checked; the warning is for "
                        "whoever maintains the code that raised it",
                ))
        return [r for r in self.run.refusals
                if (r["key"] or "").partition(":")[0] in _WHILE and (r["key"] or "").partition(":")[2] == file]

    def _render(self, rendering: dict, migration: Migration, refusals: list[dict]) -> None:
        statements: list[Statement] = []
        for chunk in rendering["chunks"]:
            try:
                pieces = split_statements(chunk["sql"])
            except Exception as err:  # the input must never stop the run; report and move on
                migration.findings.append(input_error(
                    migration.path, f"the SQL parser gave up on {chunk['sql'][:60]!r}: {err}", chunk["line"],
                    chunk["column"]))
                migration.broken = True
                continue
            for statement in pieces:
                statement.index = len(statements)
                statement.line, statement.end_line = chunk["line"], chunk["end_line"]
                statement.column = chunk["column"]
                statements.append(statement)
        migration.statements = statements
        self._notes(migration, rendering["notes"] + _refusal_notes(refusals, rendering["notes"]))

    def _notes(self, migration: Migration, notes: list[dict]) -> None:
        for note in notes:
            if note.get("input_error"):
                migration.findings.append(input_error(migration.path, note["message"], note["line"], note["column"],
                                                      fix=note["fix"]))
                migration.broken = True
                continue
            migration.findings.append(Finding(
                rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2], message=note["message"],
                path=migration.path, line=note["line"], column=note["column"],
                fix=note["fix"] or "revision code runs without network, without starting processes and with the "
                                   "files read-only; do this outside the migration",
            ))


def _refusal_notes(refusals: list[dict], said: list[dict]) -> list[dict]:
    """A note for each refused action that no note (or error) on its line already names."""
    notes: list[dict] = []
    for refusal in refusals:
        line = refusal["line"] or 1
        if any(n["line"] == line and refusal["message"] in n["message"] for n in said + notes):
            continue
        notes.append({"line": line, "column": 1, "fix": "",
                      "message": f"{refusal['message']} was refused ({REASONS[refusal['kind']]}); the revision "
                                 f"went on without it, so what it would have done is not checked"})
    return notes


def _transaction_mode(env: EnvFacts, settings: AlembicSettings, config: Config) -> tuple[bool, str]:
    if settings.transaction_per_migration is not None:
        per_migration = settings.transaction_per_migration
        source = f"transaction_per_migration = {str(per_migration).lower()} in {config.source or 'the configuration'}"
    elif env.transaction_per_migration is not None:
        per_migration = env.transaction_per_migration
        source = f"env.py line {env.transaction_per_migration_line} configures transaction_per_migration={per_migration}"
    else:
        per_migration = False
        source = "env.py does not set transaction_per_migration"
    if per_migration:
        return True, f"Alembic runs each revision in its own transaction ({source})"
    return False, (f"Alembic runs the whole upgrade in one transaction ({source}): locks taken by earlier "
                   f"revisions of the run are held until it commits")
