"""A Django project → one `Migration` per migration, in the order `manage.py migrate` applies them.

    migrations, findings, skipped = read_project(layout, config, "proj", named={file: spelling})

The SQL is what Django sends (render.py, worker.py); this side reads the files' syntax (files.py)
to place each statement on the operation that produced it, decides the transaction as Django
does (https://docs.djangoproject.com/en/stable/topics/migrations/#transactions: each migration
is atomic on PostgreSQL unless its class sets `atomic = False`), and turns what could not be
rendered into findings. Migrations of apps outside the project (Django's contrib apps, installed
packages) are read as context: their tables are known, their findings are not reported.

With `backwards=True` each migration also gets `meta["backward"]`: a `Migration` of kind "undo"
holding what `sqlmigrate --backwards` prints for it (apply.py), or `meta["irreversible"]` on it
when Django refuses to unapply it (`migrasafe verify`). Such a reading is never cached.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ...config import Config
from ...model import Finding, Migration, Statement
from ...parse import split_statements
from ..exclude import is_excluded
from ..findings import input_error
from ..reading import UnreadableFile, read_text
from .cache import RenderCache, file_keys
from .files import MigrationFile, read_migration_file
from .layout import Layout
from .render import DjangoMissing, Limits, Run, render_project, required_packages_missing

FORMAT = "django"
NOT_RENDERED = ("MS085", "django-not-rendered", "info")
INSTALL = "pip install 'migrasafe[django]'"


@dataclass
class Reading:
    migrations: list[Migration]
    findings: list[Finding]
    skipped: dict[str, str]  # the user's spelling of a file → why it is not checked
    rendered: bool  # False when everything came from the cache


def read_project(layout: Layout, config: Config, display_root: str, named: dict[Path, str] | None = None,
                 use_cache: bool = True, limits: Limits = Limits(), backwards: bool = False) -> Reading:
    named = named or {}
    use_cache = use_cache and not backwards
    where = display_root or "."
    missing = required_packages_missing()
    if missing:
        return Reading([], [input_error(where, f"{where} is a Django project, and rendering its migrations needs "
                                               f"{', '.join(missing)}, which is not installed here; nothing was checked",
                                        fix=INSTALL)], {}, False)
    files, texts, findings = _read_files(layout, display_root)
    user_model = _user_model(files)
    payload = {"root": str(layout.root), "settings_module": layout.settings_module,
               "apps": [{"label": a.label, "folder": str(a.folder)} for a in layout.apps],
               "sys_path": [str(layout.root)], "user_model": user_model,
               # Apps outside the project that the migrations depend on (contrib, installed packages).
               "referenced": sorted({app for f in files.values() for app, _ in f.dependencies
                                     if app != "__setting__"} - {a.label for a in layout.apps}),
               "backwards": backwards}
    context = repr((layout.settings_module, _settings_text(layout), user_model, payload["referenced"]))
    setting_apps = {"AUTH_USER_MODEL": (user_model or "auth.User").partition(".")[0]}
    identity = repr((layout.settings_module, sorted(a.label for a in layout.apps)))  # where its saved state is
    cache = RenderCache.for_project(file_keys(files, texts, setting_apps, context), context, layout.root, identity)
    cached = cache.load() if use_cache else None
    rendered = cached is None
    if cached is None:
        try:
            run = _render(payload, limits, cache if use_cache else None, where)
        except DjangoMissing as err:
            return Reading([], [input_error(where, f"rendering Django migrations needs {err}", fix=INSTALL)], {}, False)
    else:
        run = Run(graph=cached["graph"], renderings=cached["renderings"])
    if run.error is not None or run.graph is None:
        message = (run.error or {}).get("message") or run.failure or "the rendering process gave no result"
        return Reading([], findings + [input_error(where, f"the Django project could not be loaded: {message}")],
                       {}, rendered)
    builder = _Builder(layout, config, display_root, files, named, run)
    migrations = [builder.migration(entry) for entry in run.graph["plan"]]
    findings += builder.run_findings()
    skipped = {builder.display(Path(f)): why for f, why in run.graph["skipped"].items() if Path(f).is_relative_to(layout.root)}
    return Reading(migrations, findings, skipped, rendered)


def _render(payload: dict, limits: Limits, cache: RenderCache | None, where: str) -> Run:
    """Render what the cache does not hold: on the saved database when the only change is added
    migrations that no saved one depends on, else the whole project (saying why on stderr)."""
    snapshot = cache.snapshot_path() if cache is not None else None
    saved, why = cache.saved_state() if cache is not None else (None, None)
    run = None
    if saved is not None:
        dump, done, renderings = saved
        run = render_project(dict(payload, done=done), limits, restore=dump, snapshot=snapshot)
        if run.not_continued or run.graph is None or run.error is not None:
            why = run.not_continued or run.failure or (run.error or {}).get("message") or "the rendering gave no result"
            run = None
        else:
            run.renderings = {**renderings, **run.renderings}
    if run is None:
        if why is not None:
            _tell(f"{where}: the database saved after the last Django rendering is not used ({why}); "
                  f"every migration is rendered again")
        run = render_project(payload, limits, snapshot=snapshot)
    run.not_continued = why
    if cache is not None and run.graph is not None and run.failure is None and run.error is None:
        cache.store(run.graph, run.renderings)
        if run.snapshot:
            cache.save_state(run.graph["plan"])
    return run


def _tell(message: str) -> None:
    print(f"migrasafe: {message}", file=sys.stderr)


def _read_files(layout: Layout, display_root: str) -> tuple[dict[str, MigrationFile], dict[str, str], list[Finding]]:
    files: dict[str, MigrationFile] = {}
    texts: dict[str, str] = {}
    findings: list[Finding] = []
    for path in layout.migration_files():
        try:
            text = read_text(path)
        except UnreadableFile as err:
            findings.append(input_error(_shown(layout, display_root, path), err.message, err.line))
            continue
        key = str(path.resolve())
        files[key], texts[key] = read_migration_file(path.resolve(), text), text
    return files, texts, findings


def _user_model(files: dict[str, MigrationFile]) -> str | None:
    """AUTH_USER_MODEL for a minimal configuration: the app that creates a `User` model (not auth)."""
    if not any(app == "__setting__" for f in files.values() for app, _ in f.dependencies):
        return None
    for facts in sorted(files.values(), key=lambda f: (f.app, f.name)):
        if facts.app != "auth" and "User" in facts.created_models:
            return f"{facts.app}.User"
    return None


def _settings_text(layout: Layout) -> str:
    if not layout.settings_module:
        return ""
    path = layout.root.joinpath(*layout.settings_module.split(".")).with_suffix(".py")
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _shown(layout: Layout, display_root: str, path: Path) -> str:
    try:
        rel = path.resolve().relative_to(layout.root)
    except ValueError:
        return os.path.relpath(path)
    return os.path.join(display_root, str(rel)) if display_root else str(rel)


class _Builder:
    def __init__(self, layout: Layout, config: Config, display_root: str, files: dict[str, MigrationFile],
                 named: dict[Path, str], run: Run):
        self.layout, self.config, self.display_root = layout, config, display_root
        self.files, self.named, self.run = files, named, run
        self.external_reported: set[str] = set()

    def display(self, file: Path) -> str:
        return self.named.get(file) or _shown(self.layout, self.display_root, file)

    def migration(self, entry: dict) -> Migration:
        file = Path(entry["file"]) if entry["file"] else None
        inside = file is not None and file.is_relative_to(self.layout.root)
        facts = self.files.get(entry["file"]) if inside else None
        display = self.display(file) if file else f"{entry['app']}.{entry['name']}"
        context = not inside or (bool(self.named) and file not in self.named) or is_excluded(
            file, self.config.exclude, self.config.root)
        atomic = entry["atomic"]
        migration = Migration(
            path=display, format=FORMAT, version=f"{entry['app']}.{entry['name']}", description=entry["name"],
            in_transaction=atomic, transaction_reason=_reason(atomic, facts),
            meta={"app": entry["app"], "name": entry["name"], "file": str(file or ""), "context": context,
                  "history": f"{FORMAT}:{self.layout.key}"},
        )
        if inside:
            try:
                migration.text = read_text(file)
            except UnreadableFile:
                migration.text = ""
        problem = self.run.graph["load_errors"].get(entry["file"])
        rendering = self.run.renderings.get(entry["file"])
        if problem is not None:
            self._note(migration, problem["line"], 1, f"the migration could not be loaded: {problem['message']}; "
                                                      f"nothing of it is checked, the migrations after it are")
        elif rendering is None:
            if self.run.failed_file == entry["file"]:
                message = f"{self.run.failure}; nothing of this migration is checked, the migrations after it are not"
            else:
                message = f"not checked: the rendering stopped before this migration ({self.run.failure})"
            self._note(migration, facts.class_line if facts else 1, 1, message)
        else:
            self._statements(migration, rendering, facts)
            if "backwards" in rendering:
                migration.meta["backward"] = self._backward(migration, rendering["backwards"], facts)
        self._external(migration, entry)
        return migration

    def _backward(self, migration: Migration, rendering: dict, facts: MigrationFile | None) -> Migration:
        down = Migration(path=migration.path, format=FORMAT, version=migration.version,
                         description=migration.description, kind="undo", in_transaction=migration.in_transaction,
                         transaction_reason=migration.transaction_reason, text=migration.text,
                         meta={k: migration.meta[k] for k in ("app", "name", "file", "history")})
        if rendering["irreversible"]:
            down.meta["irreversible"] = rendering["irreversible"]
            position = facts.position_of(rendering.get("op")) if facts and rendering.get("op") is not None else None
            down.meta["irreversible_line"] = position.line if position else 1
        else:
            self._statements(down, rendering, facts)
        return down

    def _statements(self, migration: Migration, rendering: dict, facts: MigrationFile | None) -> None:
        statements: list[Statement] = []
        for recorded in rendering["statements"]:
            position = facts.position_of(recorded["op"]) if facts else None
            line, end_line, column = (position.line, position.end_line, position.column) if position else (1, 1, 1)
            try:
                pieces = split_statements(recorded["sql"])
            except Exception as err:  # the input must never stop the run; report and move on
                migration.findings.append(input_error(migration.path, f"the SQL parser gave up on "
                                                                      f"{recorded['sql'][:60]!r}: {err}", line, column))
                migration.broken = True
                continue
            for statement in pieces:
                statement.index = len(statements)
                statement.line, statement.end_line, statement.column = line, end_line, column
                statements.append(statement)
        migration.statements = statements
        for note in rendering["notes"]:
            position = facts.position_of(note["op"]) if facts else None
            line, column = (position.line, position.column) if position else (1, 1)
            if note["error"]:
                migration.findings.append(input_error(migration.path, note["message"], line, column,
                                                      fix=_REFUSED_FIX))
                migration.broken = True
            else:
                self._note(migration, line, column, note["message"])

    def _external(self, migration: Migration, entry: dict) -> None:
        for label, dependents in self.run.graph["external"].items():
            if entry["file"] in dependents and label not in self.external_reported:
                self.external_reported.add(label)
                self._note(migration, 1, 1,
                           f"depends on the app {label!r}, whose migrations are not here and which is not installed: "
                           f"the dependency is left out and the tables its models own are assumed to exist",
                           fix=f"install the package that provides {label!r} where migrasafe runs to render its "
                               f"migrations too")

    def _note(self, migration: Migration, line: int, column: int, message: str, fix: str = "") -> None:
        migration.findings.append(Finding(
            rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2], message=message,
            path=migration.path, line=line, column=column,
            fix=fix or "read this part of the migration by hand: its SQL is not part of the check",
        ))

    def run_findings(self) -> list[Finding]:
        where = os.path.relpath(str(self.layout.manage_py or self.layout.root))
        found = []
        note = self.run.graph.get("settings_note")
        if note:
            found.append(Finding(rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2], message=note,
                                 path=where, line=self.layout.settings_line or 1, column=1,
                                 fix="make the settings importable where migrasafe runs, or name them with "
                                     "--django-settings"))
        refused = self.run.graph.get("load_refusals") or []
        if refused:
            found.append(Finding(
                rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2], path=where, line=1, column=1,
                message=f"while Django loaded the migrations, the code they import tried {'; '.join(refused)}: "
                        f"refused (the rendering has no network but the throwaway server, no processes, read-only "
                        f"files), and the loading went on without it",
                fix="nothing to do if the migrations do not need it; the migrations' own SQL is checked"))
        return found


_REFUSED_FIX = ("AddIndexConcurrently and RemoveIndexConcurrently need a migration with atomic = False on its "
                "Migration class; put them in a migration of their own")


def _reason(atomic: bool, facts: MigrationFile | None) -> str:
    if not atomic:
        where = f" (line {facts.atomic_line})" if facts and facts.atomic_line else ""
        return (f"the Migration class sets atomic = False{where}: Django runs each statement on its own, except "
                f"operations that ask for a transaction")
    if facts and facts.atomic:
        return f"Django runs the migration in one transaction (atomic = True, line {facts.atomic_line})"
    return "Django runs each migration in one transaction on PostgreSQL (atomic is True unless the class says otherwise)"
