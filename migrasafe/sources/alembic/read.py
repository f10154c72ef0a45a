"""An Alembic project → one `Migration` per revision, in the order `alembic upgrade` runs them.

    migrations, findings = read_project(layout, config, "proj", named={file: spelling})

`folder_spelling` is the user's spelling of `layout.folder`; revision paths are shown from it.

With `named` empty the whole history is checked (or the `--from`/`--to` range of it); otherwise
the named revisions are, after the revisions they build on, which are read for their schema only.
"""
from __future__ import annotations

import configparser
import io
import os
import sys
import warnings
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.util import coerce_resource_to_filename

from ...config import Config
from ...model import Finding, Migration, Statement
from ...parse import split_statements
from ..exclude import is_excluded
from ..findings import input_error
from ..reading import UnreadableFile, read_text
from .envpy import EnvFacts, read_env
from .graph import Graph, GraphError, load_graph
from .layout import Layout
from .render import Recorder, render_upgrade
from .settings import AlembicSettings, alembic_settings
from .standins import StandInFinder, stand_ins

FORMAT = "alembic"
NOT_RENDERED = ("MS096", "alembic-not-rendered", "info")


@dataclass
class Project:
    layout: Layout
    script_location: Path
    display_root: str  # the user's spelling of the script location
    version_locations: list[str] | None
    recursive: bool
    import_roots: list[Path]
    alembic_config: AlembicConfig  # for revisions that use `alembic.context`

    @property
    def key(self) -> str:
        return str(self.script_location)

    def display(self, file: Path) -> str:
        try:
            rel = file.relative_to(self.script_location)
        except ValueError:
            return os.path.relpath(file)
        return os.path.join(self.display_root, str(rel)) if self.display_root else str(rel)

    def is_revision(self, filename: str) -> bool:
        """Is this code file one of the project's revisions (by its path, as Alembic loads it)?"""
        folder = os.path.dirname(filename)
        return any(folder == str(v) or folder.startswith(str(v) + os.sep) for v in self.version_folders())

    def version_folders(self) -> list[Path]:
        if not self.version_locations:
            return [self.script_location / "versions"]
        return [Path(v).resolve() for v in self.version_locations]


def read_project(layout: Layout, config: Config, folder_spelling: str,
                 named: dict[Path, str] | None = None) -> tuple[list[Migration], list[Finding]]:
    settings = alembic_settings(config.alembic, config.root)
    named = named or {}
    findings: list[Finding] = []
    try:
        with _import_roots(_roots_before_loading(layout, settings)):
            project = _project(layout, settings, folder_spelling)
    except GraphError as err:
        return [], [input_error(folder_spelling or ".", str(err))]
    env = read_env(project.script_location)
    setup = _session_setup(env, settings, config, findings)
    try:
        with _quiet(), _import_roots(project.import_roots), stand_ins(project.is_revision) as finder:
            graph = load_graph(project.script_location, project.version_locations, project.recursive,
                               after_each=finder.forget)
            order, reported = _select(graph, named, settings)
            findings.extend(_named_elsewhere(graph, project, named))
            # One upgrade runs the revisions of a range the user gave (--from, or revision files by
            # name); a whole history was applied over many deploys, each upgrade on its own.
            ranged = bool(named) or settings.start is not None or config.changed is not None
            reader = _Reader(project, graph, finder, config, env, settings, setup, ranged)
            migrations = [reader.migration(script, script.revision in reported, named) for script in order]
    except GraphError as err:
        where = project.display(err.path.resolve()) if err.path else project.display_root or "."
        return [], findings + [input_error(where, str(err), err.line)]
    for message in graph.warnings:
        findings.append(input_error(project.display_root or ".", " ".join(message.split())))
    return migrations, findings


def _project(layout: Layout, settings: AlembicSettings, folder_spelling: str) -> Project:
    kwargs = {}
    if layout.pyproject is not None:
        kwargs["toml_file"] = str(layout.pyproject)
    alembic_config = AlembicConfig(str(layout.ini) if layout.ini else None, **kwargs)
    location = settings.script_location or layout.script_location
    if location is None:
        try:
            location = Path(coerce_resource_to_filename(layout.resource)).resolve()
        except Exception as err:  # an uninstalled package: say which
            raise GraphError(f"script_location {layout.resource!r} cannot be found: {err}") from None
    if not location.is_dir():
        raise GraphError(f"script location {location} is not a folder")
    try:
        alembic_config.set_main_option("script_location", str(location).replace("%", "%%"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated separators still split as Alembic splits them
            versions = alembic_config.get_version_locations_list()
            prepend = alembic_config.get_prepend_sys_paths_list() or []
            recursive = alembic_config.get_alembic_boolean_option("recursive_version_locations")
    except (configparser.Error, ValueError, TypeError) as err:
        raise GraphError(f"{layout.ini or layout.pyproject}: {' '.join(str(err).split())}") from None
    base = layout.ini.parent if layout.ini else layout.folder
    versions = [str(_beside(base, v)) for v in versions] if versions else None
    roots = settings.sys_path
    if roots is None:
        roots = [_beside(base, p) for p in prepend] + _default_roots(layout, location)
    return Project(layout, location, _spelling_of(location, layout.folder, folder_spelling), versions, recursive,
                   _unique(roots), alembic_config)


def _spelling_of(location: Path, folder: Path, folder_spelling: str) -> str:
    """The user's spelling of the script location, from their spelling of the project folder."""
    if location == folder:
        return folder_spelling
    if location.is_relative_to(folder):
        return os.path.join(folder_spelling, str(location.relative_to(folder)))
    return os.path.relpath(location)


def _roots_before_loading(layout: Layout, settings: AlembicSettings) -> list[Path]:
    """Where a `package:path` script location is imported from."""
    return settings.sys_path if settings.sys_path is not None else [layout.folder]


def _default_roots(layout: Layout, location: Path) -> list[Path]:
    """The folder Alembic runs in (alembic.ini's), and the one holding the package the script
    location sits in (the project root of a Flask-Migrate or package layout)."""
    roots = [layout.ini.parent] if layout.ini else []
    above = location.parent
    while (above / "__init__.py").is_file() and above.parent != above:
        above = above.parent
    return roots + [above]


def _beside(base: Path, value: str) -> Path:
    path = Path(value.replace("%(here)s", str(base))).expanduser()
    return path.resolve() if path.is_absolute() else (base / path).resolve()


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


@contextmanager
def _quiet():
    """Revisions print progress (`print("Updating...")`): not into migrasafe's own output."""
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        yield


@contextmanager
def _import_roots(roots: list[Path]):
    added = [str(r) for r in roots if str(r) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for root in added:
            if root in sys.path:
                sys.path.remove(root)


def _select(graph: Graph, named: dict[Path, str], settings: AlembicSettings) -> tuple[list, set[str]]:
    """The revisions to read, in upgrade order, and the ids of those to report."""
    if named:
        by_file = {Path(s.path).resolve(): s for s in graph.directory.walk_revisions()}
        targets = {by_file[f].revision for f in named if f in by_file}
        needed = {s.revision for target in targets for s in graph.upgrade_order(target)}
        return [s for s in graph.upgrade_order() if s.revision in needed], targets
    order = _ranged("--to", settings.stop, lambda: graph.upgrade_order(settings.stop or "heads"))
    if settings.start is None:
        return order, {s.revision for s in order}
    start = _ranged("--from", settings.start, lambda: graph.revision(settings.start).revision)
    applied = {s.revision for s in graph.upgrade_order(start)}
    return order, {s.revision for s in order if s.revision not in applied}


def _ranged(option: str, value: str | None, work):
    try:
        return work()
    except GraphError as err:
        raise GraphError(f"{option} {value}: {err}" if value else str(err)) from None


def _named_elsewhere(graph: Graph, project: Project, named: dict[Path, str]) -> list[Finding]:
    """Named files that are not revisions of the project (env.py, a helper module)."""
    revisions = {Path(s.path).resolve() for s in graph.directory.walk_revisions()}
    return [
        input_error(spelling, f"not an Alembic revision of {project.display_root or project.script_location}; "
                              f"name a revision file or the project folder")
        for file, spelling in named.items() if file not in revisions
    ]


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
    def __init__(self, project: Project, graph: Graph, finder: StandInFinder, config: Config,
                 env: EnvFacts, settings: AlembicSettings, setup: list[Statement], ranged: bool):
        self.project, self.graph, self.finder, self.config = project, graph, finder, config
        self.setup, self.ranged = setup, ranged
        self.per_migration, self.reason = _transaction_mode(env, settings, config)
        if not ranged:
            self.reason += ("; the history was applied over many deploys, so each revision is checked as "
                            "its own upgrade (--from REV checks the revisions after REV as one)")
        self.run_started = False

    def migration(self, script, reported: bool, named: dict[Path, str]) -> Migration:
        file = Path(script.path).resolve()
        display = named.get(file) or self.project.display(file)
        if is_excluded(file, self.config.exclude, self.config.root):
            reported = False
        migration = Migration(
            path=display, format=FORMAT, version=script.revision, description=script.doc,
            in_transaction=True, transaction_reason=self.reason,
            meta={"revision": script.revision, "history": self.project.key, "file": str(file),
                  "context": not reported, "down_revisions": _ids(script.down_revision),
                  "session_setup": self.setup},
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
        problem = self.graph.load_errors.get(str(file))
        if problem is not None:
            migration.findings.append(input_error(display, f"cannot load the revision: {problem.message}", problem.line))
            migration.broken = True
            return migration
        self._render(script, migration, str(Path(script.module.__file__)))
        return migration

    def _render(self, script, migration: Migration, filename: str) -> None:
        recorder = Recorder(filename, missing_modules=lambda: self.finder.missing_modules(filename))
        try:
            rendering = render_upgrade(script.module, recorder, self.project.alembic_config, self.graph.directory)
        finally:
            self.finder.forget()
        statements: list[Statement] = []
        for chunk in rendering.chunks:
            try:
                pieces = split_statements(chunk.sql)
            except Exception as err:  # the input must never stop the run; report and move on
                migration.findings.append(input_error(migration.path, f"the SQL parser gave up on {chunk.sql[:60]!r}: {err}",
                                                      chunk.position.line, chunk.position.column))
                migration.broken = True
                continue
            for statement in pieces:
                statement.index = len(statements)
                statement.line, statement.end_line = chunk.position.line, chunk.position.end_line
                statement.column = chunk.position.column
                statements.append(statement)
        migration.statements = statements
        for note in rendering.notes:
            migration.findings.append(Finding(
                rule=NOT_RENDERED[0], name=NOT_RENDERED[1], severity=NOT_RENDERED[2], message=note.message,
                path=migration.path, line=note.position.line, column=note.position.column, fix=note.fix,
            ))


def _ids(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


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
