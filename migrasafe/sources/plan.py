"""Which histories the given paths name, and which of their migrations to return."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..model import Finding, Migration
from . import diesel, findings, plain
from .build import build_migration, display_path
from .detect import detect_format
from .entries import Entry, History
from .alembic.layout import Layout, find_layout, layout_of_revision
from .alembic.settings import alembic_settings
from .exclude import is_excluded
from .formats import SourceFormat
from .listing import subfolders
from .registry import FORMATS
from .versions import same_version

# How deep to look for migration folders below a folder that holds none itself.
_DISCOVERY_DEPTH = 8
# Python revisions, rendered to SQL by the alembic package rather than listed as SQL files.
ALEMBIC = "alembic"


@dataclass
class Request:
    root: Path
    format: str
    display_root: str
    whole: bool = False  # a folder was named: every migration, none of them context
    # Files named one by one, with the user's spelling of each.
    named: dict[Path, str] = field(default_factory=dict)
    undo: Entry | None = None  # an undo/down file named on its own, checked after its migration
    standalone: Entry | None = None  # a file no history claims, checked alone as plain SQL


class Plan:
    def __init__(self, config: Config):
        self.config = config
        self.findings: list[Finding] = []
        self.requests: dict[str, Request] = {}
        self.histories: dict[tuple[Path, str], History] = {}
        self.reported: set[tuple[Path, str]] = set()
        self.alembic: dict[str, tuple[Layout, str]] = {}  # request key → project, user's spelling of its folder

    # Paths → requests

    def add(self, given: str) -> None:
        path = Path(given)
        forced = self.config.format
        if forced is not None and forced not in FORMATS and forced != ALEMBIC:
            self.findings.append(findings.input_error(given, f"unknown migration format {forced!r}"))
            return
        if not path.exists():
            self.findings.append(findings.input_error(given, f"path does not exist: {given}"))
            return
        if is_excluded(path, self.config.exclude, self.config.root):
            return
        try:
            if self._add_alembic(path, given):
                return
            if path.is_dir():
                self._add_folder(path.resolve(), given)
            else:
                self._add_file(path, given)
        except OSError as err:
            self.findings.append(findings.input_error(given, f"cannot read: {err.strerror or err}"))

    def _add_folder(self, folder: Path, given: str) -> None:
        forced = self.config.format
        if diesel.is_migration_folder(folder) and self._format_of(folder.parent) == "diesel":
            # One diesel migration is one migration: check it after the ones before it.
            self._add_file(folder / "up.sql", os.path.join(given, "up.sql"))
            return
        fmt = detect_format(folder) if forced is None else None if forced == ALEMBIC else forced
        if fmt is not None:
            self._request(str(folder), folder, fmt, given).whole = True
            return
        discovered = False
        for found, fmt in self._discover(folder, 1):
            discovered = True
            display = os.path.join(given, os.path.relpath(found, folder))
            if fmt == ALEMBIC:
                self._alembic_request(find_layout(found), display).whole = True
            else:
                self._request(str(found), found, fmt, display).whole = True
        if forced == ALEMBIC and not discovered:
            self.findings.append(findings.input_error(
                given, f"no Alembic project in {given}: expected alembic.ini, or env.py beside a versions/ folder",
                fix="name the folder with alembic.ini or the script location, or pass --alembic-dir"))

    def _discover(self, folder: Path, depth: int):
        if depth > _DISCOVERY_DEPTH:
            return
        for sub in subfolders(folder):
            if is_excluded(sub, self.config.exclude, self.config.root):
                continue
            if self.config.format in (None, ALEMBIC) and find_layout(sub) is not None:
                yield sub, ALEMBIC
                continue
            fmt = detect_format(sub) if self.config.format != ALEMBIC else None
            if fmt is not None:
                yield sub, fmt
            else:
                yield from self._discover(sub, depth + 1)

    def _add_file(self, path: Path, given: str) -> None:
        if not path.name.endswith(".sql"):
            return  # Alembic revisions and companion files are read elsewhere or with their migration
        folder = path.parent.resolve()
        file = folder / path.name
        if path.name in ("up.sql", "down.sql") and self._format_of(folder.parent) == "diesel":
            root, fmt, levels = folder.parent, "diesel", 2
        else:
            root, fmt, levels = folder, self._format_of(folder) or "sql", 1
        history = self._history(root, fmt)
        display_root = _display_root(given, levels, root)
        undo = next((e for e in history.reverse if e.file == file), None)
        if any(e.file == file for e in history.forward):
            self._request(str(root), root, fmt, display_root).named.setdefault(file, given)
        elif undo is not None:
            request = self._request(f"{root} (undo {undo.rel})", root, fmt, display_root)
            request.undo, request.named[file] = undo, given
        elif file in history.ignored:
            return  # the tool does not run this file here (another dialect, below a baseline)
        else:
            request = self._request(str(file), folder, "sql", _display_root(given, 1, folder))
            request.standalone, request.named[file] = plain.plain_entry(folder, file), given

    def _add_alembic(self, path: Path, given: str) -> bool:
        """Claim a path that belongs to an Alembic project; False when it is not one."""
        if self.config.format not in (None, ALEMBIC):
            return False
        named_dir = alembic_settings(self.config.alembic, self.config.root).script_location
        if path.is_dir():
            folder = path.resolve()
            if named_dir is not None and (named_dir.is_relative_to(folder) or folder.is_relative_to(named_dir)):
                layout = find_layout(named_dir) or Layout(named_dir, named_dir)
                display = given if folder == named_dir else os.path.relpath(named_dir)
            else:
                layout, display = find_layout(folder), given
            if layout is None:
                return False
            self._alembic_request(layout, display).whole = True
            return True
        if path.suffix != ".py":
            return False
        file = path.resolve()
        if named_dir is not None and file.is_relative_to(named_dir):
            layout = find_layout(named_dir) or Layout(named_dir, named_dir)
        else:
            layout = layout_of_revision(file)
        if layout is None:
            if self.config.format == ALEMBIC:
                self.findings.append(findings.input_error(given, "not in an Alembic project: no alembic.ini, "
                                                                 "or env.py beside versions/, above it"))
                return True
            return False
        levels = len(file.relative_to(layout.folder).parts) if file.is_relative_to(layout.folder) else 0
        display = _display_root(given, levels, layout.folder) if levels else os.path.relpath(layout.folder)
        self._alembic_request(layout, display).named.setdefault(file, given)
        return True

    def _alembic_request(self, layout: Layout, display: str) -> Request:
        key = f"{ALEMBIC}:{layout.key}"
        self.alembic.setdefault(key, (layout, display))
        return self._request(key, layout.script_location or layout.folder, ALEMBIC, display)

    def _format_of(self, folder: Path) -> str | None:
        return self.config.format or detect_format(folder)

    def _request(self, key: str, root: Path, fmt: str, display_root: str) -> Request:
        if key not in self.requests:
            self.requests[key] = Request(root=root, format=fmt, display_root=display_root)
        return self.requests[key]

    def _history(self, root: Path, fmt: str) -> History:
        key = (root, fmt)
        if key not in self.histories:
            history = FORMATS[fmt].list_history(root)
            history.forward = [e for e in history.forward if not self._excluded(e)]
            history.reverse = [e for e in history.reverse if not self._excluded(e)]
            self.histories[key] = history
        return self.histories[key]

    def _excluded(self, entry: Entry) -> bool:
        return is_excluded(entry.file, self.config.exclude, self.config.root)

    # Requests → migrations

    def migrations(self) -> list[Migration]:
        out: list[Migration] = []
        for key, request in self.requests.items():
            out.extend(self._migrations_of(key, request))
        return out

    def _migrations_of(self, key: str, request: Request) -> list[Migration]:
        if request.format == ALEMBIC:
            return self._alembic_migrations(key, request)
        fmt = FORMATS[request.format]
        if request.standalone is not None:
            return [self._build(request.standalone, fmt, request, key, context=False)]
        history = self._history(request.root, request.format)
        self._report_problems(history, request.display_root)
        if request.undo is not None:
            before = _up_to_version(history, request.undo.version)
            return [self._build(e, fmt, request, key, context=True) for e in before] + [
                self._build(request.undo, fmt, request, key, context=False)
            ]
        if request.whole:
            return [self._build(e, fmt, request, key, context=False) for e in history.forward]
        last = max(i for i, e in enumerate(history.forward) if e.file in request.named)
        return [
            self._build(e, fmt, request, key, context=e.file not in request.named)
            for e in history.forward[: last + 1]
        ]

    def _alembic_migrations(self, key: str, request: Request) -> list[Migration]:
        from .alembic.read import read_project  # loads Alembic and SQLAlchemy: only for Alembic projects

        layout, display = self.alembic[key]
        migrations, problems = read_project(layout, self.config, display, {} if request.whole else request.named)
        self.findings.extend(problems)
        return migrations

    def _report_problems(self, history: History, display_root: str) -> None:
        if (history.root, history.format) in self.reported:
            return
        self.reported.add((history.root, history.format))
        self.findings.extend(
            findings.input_error(display_path(display_root, p.rel), p.message, p.line, fix=p.fix)
            for p in history.problems
        )

    def _build(
        self, entry: Entry, fmt: SourceFormat, request: Request, history_key: str, context: bool
    ) -> Migration:
        display = request.named.get(entry.file, "")
        migration = build_migration(entry, fmt, request.display_root, self.config, display=display)
        migration.meta["history"] = history_key
        migration.meta["context"] = context
        return migration


def _up_to_version(history: History, version: str) -> list[Entry]:
    """The forward run up to and including the migration an undo file reverts."""
    matches = [i for i, e in enumerate(history.forward) if same_version(history.format, e.version, version)]
    return history.forward[: matches[-1] + 1] if matches else []


def _display_root(given: str, levels: int, root: Path) -> str:
    """The user's spelling of the history folder, from the spelling of a file inside it."""
    current = given
    for _ in range(levels):
        current = os.path.dirname(current)
        if not current:
            break
    else:
        return current
    # The given path ran out of folders (`up.sql` typed inside a migration folder).
    rel = os.path.relpath(root)
    return "" if rel == "." else rel
