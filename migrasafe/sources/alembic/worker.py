"""The part of reading an Alembic project that runs the project's code, in the sandbox's child.

    work(payload, channel)   # migrasafe.sandbox runs it; read.py builds the payload and reads the results

Loading the revision graph imports every revision module (and the application they import);
rendering runs each `upgrade()`. Both happen here, each file in its own step (`load:FILE`,
`render:FILE`) so a time limit, a warning or a refused action is tied to its revision. What goes
back to the parent is plain data, in this order:

    {"type": "project", "script_location": ..., "version_locations": [...] | None}
    {"type": "graph", "order": [{"revision", "file", "doc", "down_revisions", "reported"}],
     "load_errors": {file: {"line", "message"}}, "not_revisions": [file], "warnings": [text],
     "heads": [{"revision", "file", "branch_labels"}]}
    {"type": "rendering", "file": ..., "chunks": [{"sql", "line", "end_line", "column"}],
     "notes": [{"line", "column", "message", "fix", "input_error"}],
     "downgrade": {"chunks": [...], "notes": [...]}}     downgrade() too, when the payload asks for it
    {"type": "error", "message": ..., "path": file | None, "line": N}   the graph cannot be built

The payload names files an earlier child could not load (`unloadable`, which become placeholders
without running) and files already rendered (`rendered`, skipped), so that a child started again
after one died goes on from there.
"""
from __future__ import annotations

import configparser
import io
import os
import sys
import warnings
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.util import coerce_resource_to_filename

from .graph import Graph, GraphError, LoadError, load_graph
from .layout import Layout
from .render import Recorder, render_downgrade, render_upgrade
from .standins import stand_ins


def work(payload: dict, channel) -> None:
    layout = Layout(**{k: Path(v) if v and k != "resource" else v for k, v in payload["layout"].items()})
    settings = payload["settings"]
    try:
        with _import_roots(_paths(settings["sys_path"]) if settings["sys_path"] is not None else [layout.folder]):
            with channel.step("project"):
                project = _project(layout, settings)
    except GraphError as err:
        channel.send({"type": "error", "message": str(err), "path": None, "line": 1, "where": "project"})
        return
    location, versions, recursive, roots, alembic_config = project
    channel.send({"type": "project", "script_location": str(location), "version_locations": versions})
    folders = [location / "versions"] if not versions else [Path(v) for v in versions]

    def is_revision(filename: str) -> bool:
        folder = os.path.dirname(filename)
        return any(folder == str(v) or folder.startswith(str(v) + os.sep) for v in folders)

    unloadable = {file: LoadError(e["line"], e["message"]) for file, e in payload["unloadable"].items()}
    try:
        with _quiet(), _import_roots(roots), stand_ins(is_revision) as finder:
            graph = load_graph(location, versions, recursive, after_each=finder.forget,
                               step=lambda path: channel.step(f"load:{path.resolve()}", str(path)),
                               unloadable=unloadable)
            order, reported = _select(graph, [Path(f) for f in payload["named"]], settings)
            files = {Path(s.path).resolve() for s in graph.directory.walk_revisions()}
            channel.send({
                "type": "graph",
                "order": [{"revision": s.revision, "file": str(Path(s.path).resolve()), "doc": s.doc,
                           "down_revisions": _ids(s.down_revision), "reported": s.revision in reported}
                          for s in order],
                "load_errors": {f: {"line": e.line, "message": e.message} for f, e in graph.load_errors.items()},
                "not_revisions": [f for f in payload["named"] if Path(f) not in files],
                "warnings": graph.warnings,
                # Alembic's own heads over the whole graph, whatever was selected, with the branch labels
                # each carries (its own and those it inherits): migrasafe/history judges them.
                "heads": [{"revision": s.revision, "file": str(Path(s.path).resolve()),
                           "branch_labels": sorted(s.branch_labels)}
                          for s in (graph.directory.get_revision(h) for h in graph.directory.get_heads())],
            })
            done = set(payload["rendered"])
            for script in order:
                file = str(Path(script.path).resolve())
                if file in done or file in graph.load_errors:
                    continue
                filename = str(Path(script.module.__file__))
                with channel.step(f"render:{file}", filename):
                    recorder = Recorder(filename, missing_modules=lambda: finder.missing_modules(filename))
                    try:
                        rendering = render_upgrade(script.module, recorder, alembic_config, graph.directory)
                        if payload.get("downgrade"):
                            recorder = Recorder(filename, missing_modules=lambda: finder.missing_modules(filename),
                                                function="downgrade")
                            downgrade = render_downgrade(script.module, recorder, alembic_config, graph.directory)
                    finally:
                        finder.forget()
                message = {"type": "rendering", "file": file, **_plain(rendering)}
                if payload.get("downgrade"):
                    message["downgrade"] = _plain(downgrade)
                channel.send(message)
    except GraphError as err:
        channel.send({"type": "error", "message": str(err), "path": str(err.path) if err.path else None,
                      "line": err.line, "where": "graph"})


def _plain(rendering) -> dict:
    return {
        "chunks": [{"sql": c.sql, "line": c.position.line, "end_line": c.position.end_line,
                    "column": c.position.column} for c in rendering.chunks],
        "notes": [{"line": n.position.line, "column": n.position.column, "message": n.message,
                   "fix": n.fix, "input_error": n.input_error} for n in rendering.notes],
    }


def _project(layout: Layout, settings: dict):
    kwargs = {}
    if layout.pyproject is not None:
        kwargs["toml_file"] = str(layout.pyproject)
    alembic_config = AlembicConfig(str(layout.ini) if layout.ini else None, **kwargs)
    location = Path(settings["script_location"]) if settings["script_location"] else layout.script_location
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
    if settings.get("version_locations") is not None:  # found on disk where no configuration names them
        versions = settings["version_locations"]
    versions = [str(_beside(base, v)) for v in versions] if versions else None
    if settings["sys_path"] is not None:
        roots = _paths(settings["sys_path"])
    else:
        roots = [_beside(base, p) for p in prepend] + _default_roots(layout, location)
    return location, versions, recursive, list(dict.fromkeys(roots)), alembic_config


def _paths(values: list[str]) -> list[Path]:
    return [Path(v) for v in values]


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


def _select(graph: Graph, named: list[Path], settings: dict) -> tuple[list, set[str]]:
    """The revisions to read, in upgrade order, and the ids of those to report."""
    if named:
        by_file = {Path(s.path).resolve(): s for s in graph.directory.walk_revisions()}
        targets = {by_file[f].revision for f in named if f in by_file}
        needed = {s.revision for target in targets for s in graph.upgrade_order(target)}
        return [s for s in graph.upgrade_order() if s.revision in needed], targets
    start, stop = settings["start"], settings["stop"]
    order = _ranged("--to", stop, lambda: graph.upgrade_order(stop or "heads"))
    if start is None:
        return order, {s.revision for s in order}
    start_revision = _ranged("--from", start, lambda: graph.revision(start).revision)
    applied = {s.revision for s in graph.upgrade_order(start_revision)}
    return order, {s.revision for s in order if s.revision not in applied}


def _ranged(option: str, value: str | None, work):
    try:
        return work()
    except GraphError as err:
        raise GraphError(f"{option} {value}: {err}" if value else str(err)) from None


def _ids(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
