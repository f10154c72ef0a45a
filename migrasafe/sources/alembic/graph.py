"""The revision graph, loaded with Alembic's own ScriptDirectory, in the order `upgrade` runs it.

A revision file that cannot be loaded (a syntax error, module-level code that raises) keeps its
place in the graph, with the ids its source assigns, so the revisions after it still order and
render; the file is reported as unreadable.
"""
from __future__ import annotations

import ast
import re
import types
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from alembic import util as alembic_util
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from alembic.script.revision import RevisionError

from ...sandbox import Refused
from .ids import ID_NAMES, literal_ids

_ID_NAMES = ID_NAMES
# `revision = "abc"` written plainly, for files Python itself cannot parse.
_ASSIGNMENT = re.compile(r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


_MISSING = re.compile(r"Revision (\S+) referenced from")


class GraphError(Exception):
    """The graph cannot be ordered (a missing or repeated revision, a cycle, an unknown range)."""

    def __init__(self, message: str, path: Path | None = None, line: int = 1):
        super().__init__(message)
        self.path = path  # the revision file at fault, when one is
        self.line = line


@dataclass
class LoadError:
    line: int
    message: str


@dataclass
class Graph:
    directory: ScriptDirectory
    load_errors: dict[str, LoadError] = field(default_factory=dict)  # by resolved file path
    warnings: list[str] = field(default_factory=list)

    def scripts(self) -> list[Script]:
        return list(self.directory.walk_revisions("base", "heads"))

    def upgrade_order(self, upper="heads", lower=None) -> list[Script]:
        """What `alembic upgrade <upper>` runs on a database at `lower` (None: empty), first first."""
        with _revision_errors():
            found = self.directory.revision_map.iterate_revisions(upper, lower, implicit_base=True)
            return list(reversed(list(found)))

    def revision(self, rev: str) -> Script:
        with _revision_errors():
            script = self.directory.get_revision(rev)
        if script is None:
            raise GraphError(f"no revision {rev!r}")
        return script


def load_graph(script_location: Path, version_locations: list[str] | None = None,
               recursive: bool = False, after_each=lambda: None, step=lambda path: nullcontext(),
               unloadable: dict[str, LoadError] | None = None) -> Graph:
    """`after_each` runs after each revision file is loaded, and each loads inside `step(path)`.
    Files in `unloadable` (by resolved path) are not run: they are placeholders with that error."""
    directory = ScriptDirectory(str(script_location), version_locations=version_locations,
                                recursive_version_locations=recursive)
    graph = Graph(directory)
    loading = _tolerant_loading(graph, after_each, step, unloadable or {})
    with loading, warnings.catch_warnings(record=True) as caught, _revision_errors():
        warnings.simplefilter("always")
        try:
            directory.revision_map.heads  # builds the map: every revision file is loaded here
        except (CommandError, RevisionError):
            raise
        except Exception as err:
            # Alembic warns about a revision that names a missing one, then fails on it.
            said = "; ".join(" ".join(str(w.message).split()) for w in caught)
            missing = _MISSING.search(said)
            where = _naming(directory, missing.group(1)) if missing else None
            raise GraphError(said or f"the revision graph cannot be built: {type(err).__name__}: {err}",
                             *(where or ())) from None
    graph.warnings = [str(w.message) for w in caught]
    return graph


@contextmanager
def _revision_errors():
    try:
        yield
    except (CommandError, RevisionError) as err:
        raise GraphError(" ".join(str(err).split())) from None


@contextmanager
def _tolerant_loading(graph: Graph, after_each, step, unloadable: dict[str, LoadError]):
    """Alembic's loader, except that a file that fails becomes a placeholder module."""
    load = alembic_util.load_python_file

    def tolerant(dir_, filename):
        path = Path(dir_) / Path(filename).name
        known = unloadable.get(str(path.resolve()))
        if known is not None:
            return _unloadable(graph, path, known)
        with step(path):
            try:
                return load(dir_, filename)
            except (Exception, SystemExit) as error:
                return _unloadable(graph, path, LoadError(_error_line(error, path), _error_text(error)))
            finally:
                after_each()

    alembic_util.load_python_file = tolerant
    try:
        yield
    finally:
        alembic_util.load_python_file = load


def _unloadable(graph: Graph, path: Path, error: LoadError) -> types.ModuleType:
    module = _placeholder(path)
    if module is None:
        raise CommandError(f"{path}: cannot be loaded ({error.message}) and names no revision id") from None
    graph.load_errors[str(path.resolve())] = error
    return module


def _naming(directory: ScriptDirectory, missing: str) -> tuple[Path, int] | None:
    """The revision file, and line, that names `missing` as the revision it follows or needs."""
    for folder in (Path(v) for v in directory._version_locations):
        for path in sorted(folder.rglob("*.py")):
            try:
                tree = ast.parse(path.read_bytes())
            except (OSError, SyntaxError, ValueError):
                continue
            for node in tree.body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                        and node.targets[0].id in ("down_revision", "depends_on")):
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        continue
                    if missing == value or (isinstance(value, (tuple, list)) and missing in value):
                        return path, node.lineno
    return None


def _placeholder(path: Path) -> types.ModuleType | None:
    """A module holding only the revision ids the file assigns, read without running it."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values = _ids_from_ast(source)
    if values is None:
        values = _ids_from_text(source)
    if not isinstance(values.get("revision"), str):
        return None
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    for name in _ID_NAMES:
        setattr(module, name, values.get(name))
    return module


def _ids_from_ast(source: str) -> dict | None:
    found = literal_ids(source)
    return None if found is None else {name: value for name, (value, _) in found.items()}


def _ids_from_text(source: str) -> dict:
    values = {}
    for match in _ASSIGNMENT.finditer(source):
        try:
            values[match.group(1)] = ast.literal_eval(match.group(2))
        except (ValueError, SyntaxError):
            continue
    return values


def _error_line(error: BaseException, path: Path) -> int:
    if isinstance(error, SyntaxError) and error.lineno:
        return error.lineno
    line = 1
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error_text(error: BaseException) -> str:
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg}"
    return f"{type(error).__name__}: {' '.join(str(error).split())}"
