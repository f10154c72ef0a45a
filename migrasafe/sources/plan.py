"""Which histories the given paths name, and which of their migrations to return."""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..model import Finding, Migration
from . import diesel, findings, plain, versioned_folders
from .lazy import history_digest, placeholder
from .markers import MARKER_NAMES, Marked, not_postgres_reason, read_markers
from .unread import BROKEN, companion, is_code_migration, unread_files, unreadable_folders
from .build import build_migration, display_path
from .detect import detect_format, layouts_looked_for
from .entries import Entry, History
from .alembic.layout import Layout, find_layout, layout_of_revision, revision_folder_layout
from .alembic.settings import alembic_settings
from .exclude import is_excluded
from .formats import SourceFormat
from .listing import files_in, subfolders, walk_files
from .registry import FORMATS, ROOTED
from .versions import same_version

# How deep to look for migration folders below a folder that holds none itself.
_DISCOVERY_DEPTH = 8
# How far above a folder named on the command line to look for a tool's configuration naming it.
_MARKER_LEVELS = 4
# Folders of rows to load (seeds, fixtures), found below a project's root: not migration histories.
DATA_FOLDERS = {"seeds", "seed", "seeders", "seed-data", "seed_data", "fixtures"}
DATA_REASON = "data, not a migration (a seeds or fixtures folder): name the folder to check its files as migrations"
# A folder found that is not read, with the reason in Plan._not_read.
NOT_READ = "(not read)"
# Python revisions, rendered to SQL by the alembic package rather than listed as SQL files.
ALEMBIC = "alembic"
# Django migrations, rendered by Django's own schema editor (sources/django/).
DJANGO = "django"


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
    run_started: bool = False  # a run-scoped tool: the first pending migration has been reached


class Plan:
    def __init__(self, config: Config, backward: bool = False):
        """`backward`: render Alembic downgrade() and Django's backward SQL too (meta["downgrade"],
        meta["backward"]), for `migrasafe verify`; the backward files of other layouts are in
        `histories[...].reverse`."""
        self.config = config
        self.backward = backward
        self.findings: list[Finding] = []
        self.requests: dict[str, Request] = {}
        self.histories: dict[tuple[Path, str], History] = {}
        self.reported: set[tuple[Path, str]] = set()
        self.alembic: dict[str, tuple[Layout, str]] = {}  # request key → project, user's spelling of its folder
        self.django: dict = {}  # request key → Django project layout, user's spelling of its root
        # Files in migration folders that were not read (user's spelling → why), for the report.
        self.skipped: dict[str, str] = {}
        # Each path given → the requests it made (None: excluded by the configuration), so that a
        # path in which no migration was found is reported instead of passing.
        self.origins: dict[str, list[str] | None] = {}
        self._given: str | None = None
        self._walk: tuple[Path, str] | None = None  # the folder discovery started from, the user's spelling
        self._claimed: set[Path] = set()  # folders a tool's configuration named (markers.py)
        self._not_read: dict[Path, str] = {}  # folders found that are no PostgreSQL history → why
        self._flat: set[Path] = set()  # of those, the ones whose tool reads no subfolder (sql-migrate)
        self._companions: dict[str, str] = {}  # history key → digest of its tool's companion files

    # Paths → requests

    def add(self, given: str) -> None:
        path = Path(given)
        forced = self.config.format
        if forced is not None and forced not in FORMATS and forced not in (ALEMBIC, DJANGO):
            self.findings.append(findings.input_error(given, f"unknown migration format {forced!r}"))
            return
        problem = _unusable_path(path)
        if problem:
            self.findings.append(findings.input_error(given, problem))
            return
        if is_excluded(path, self.config.exclude, self.config.root):
            self.origins.setdefault(given, None)
            return
        errors = len(self.findings)
        self._given = given
        self.origins.setdefault(given, [])
        try:
            if self._add_alembic(path, given) or self._add_django(path, given):
                return
            if path.is_dir():
                self._add_folder(path.resolve(), given)
            else:
                self._add_file(path, given)
        except OSError as err:
            self.findings.append(findings.input_error(given, f"cannot read: {err.strerror or err}"))
        finally:
            self._given = None
            if len(self.findings) > errors:
                self.origins[given] = None  # already reported: no second message for it

    def _add_folder(self, folder: Path, given: str) -> None:
        forced = self.config.format
        if diesel.is_migration_folder(folder) and self._format_of(folder.parent) == "diesel":
            # One diesel migration is one migration: check it after the ones before it.
            self._add_file(folder / "up.sql", os.path.join(given, "up.sql"))
            return
        if (folder / "migration.sql").is_file() and self._format_of(folder.parent) == "prisma":
            self._add_file(folder / "migration.sql", os.path.join(given, "migration.sql"))
            return
        versioned = versioned_folders.history_root(folder, forced)
        if versioned is not None:  # one release of a version-folder history: after the releases before it
            history = self._history(versioned, versioned_folders.NAME)
            for file in [e.file for e in history.forward] + sorted(history.skipped):
                if file.is_relative_to(folder):
                    self._add_file(file, os.path.join(given, os.path.relpath(file, folder)))
            return
        owner = self._project_of(folder)
        if owner is not None and owner[0] != folder:  # the scripts folder of a project (sqitch's deploy/)
            root, fmt = owner
            display = os.path.normpath(os.path.join(given, os.path.relpath(root, folder)))
            self._request(str(root), root, fmt, display).whole = True
            return
        marked = self._marked_above(folder) if forced is None else None
        if marked is not None:  # a tool's configuration above names this folder as its migrations
            if marked.other_database:
                if marked.format == "sql-migrate":
                    self._flat.add(folder)
                self._skip_folder(folder, given, not_postgres_reason(marked))
                self.origins[given] = None  # said why: listed as not read
                return
            self._request(str(folder), folder, marked.format, given).whole = True
            return
        fmt = detect_format(folder) if forced is None else None if forced == ALEMBIC else forced
        # A named folder of unversioned .sql files is read as plain SQL only if no history is
        # found below it: at a project's root such files are seeds, dumps or queries.
        fallback = fmt == "sql" and forced is None and not plain.looks_like_migrations(folder)
        if fmt is not None and not fallback:
            self._request(str(folder), folder, fmt, given).whole = True
            if fmt not in FORMATS or not FORMATS[fmt].nested:
                return
        discovered = False
        claimed = fmt if fmt is not None and not fallback else None
        self._walk = (folder, given)
        for found, fmt in self._discover(folder, 1, claimed):
            display = os.path.join(given, os.path.relpath(found, folder))
            if fmt == NOT_READ:
                self._skip_folder(found, display, self._not_read.pop(found))
                continue
            discovered = True
            if fmt == ALEMBIC:
                self._alembic_request(find_layout(found), display).whole = True
            else:
                self._request(str(found), found, fmt, display).whole = True
        if fallback and not discovered:
            self._request(str(folder), folder, "sql", given).whole = True
        elif forced == ALEMBIC and not discovered:
            self.findings.append(findings.input_error(
                given, f"no Alembic project in {given}: expected alembic.ini, or env.py beside a versions/ folder",
                fix="name the folder with alembic.ini or the script location, or pass --alembic-dir"))

    def _discover(self, folder: Path, depth: int, nested_in: str | None = None):
        """`nested_in`: the format that claimed `folder` while histories may lie below it (sqitch),
        whose own script folders are then part of it, not histories of their own."""
        if depth > _DISCOVERY_DEPTH:
            return
        owner = FORMATS[nested_in].root_of if nested_in in FORMATS else None
        yield from self._marked(folder)
        for sub in subfolders(folder):
            if sub in self._claimed or is_excluded(sub, self.config.exclude, self.config.root):
                continue
            if owner is not None and owner(sub) is not None:
                continue
            if sub.name.lower() in DATA_FOLDERS:
                # Seeds and fixtures fill a database with rows; they are checked only when named.
                self._not_read[sub] = DATA_REASON
                yield sub, NOT_READ
                continue
            if self.config.format in (None, ALEMBIC) and find_layout(sub) is not None:
                yield sub, ALEMBIC
                continue
            fmt = detect_format(sub) if self.config.format != ALEMBIC else None
            if fmt == "sql" and not plain.looks_like_migrations(sub):
                fmt = None  # unversioned .sql files below a project's root: seeds or queries
            if fmt is not None:
                yield sub, fmt
            if fmt is None:
                yield from self._discover(sub, depth + 1, nested_in)
            elif FORMATS[fmt].nested:
                yield from self._discover(sub, depth + 1, fmt)

    def _marked(self, folder: Path):
        """The folders the tools' configuration files in `folder` name as their migrations
        (markers.py): each is the history, in that tool's layout, or not read when the tool runs it
        on another database."""
        if self.config.format is not None:
            return  # the layout was given: the folders are found by their shape in it
        markers = read_markers(folder)
        top, given = self._walk or (folder, str(folder))
        for problem in markers.problems:
            shown = os.path.join(given, os.path.relpath(folder / problem.rel, top))
            self.findings.append(findings.input_error(shown, problem.message, problem.line, fix=problem.fix))
        for marked in markers.folders:
            if marked.folder in self._claimed or is_excluded(marked.folder, self.config.exclude, self.config.root):
                continue
            if not marked.folder.is_dir():
                shown = os.path.join(given, os.path.relpath(folder / marked.file, top))
                self.findings.append(findings.input_error(
                    shown, f"{marked.marker} names the migrations folder {os.path.relpath(marked.folder, folder)}, "
                           "which does not exist: no migration of it is checked", marked.line,
                    fix="correct the folder in the configuration, or name the migrations folder"))
                continue
            self._claimed.add(marked.folder)
            if marked.other_database:
                self._not_read[marked.folder] = not_postgres_reason(marked)
                if marked.format == "sql-migrate":  # reads the files of its dir, not below it
                    self._flat.add(marked.folder)
                yield marked.folder, NOT_READ
            else:
                yield marked.folder, marked.format

    def _marked_above(self, folder: Path) -> Marked | None:
        """The marker (markers.py) in a folder above `folder`, up to the configuration's root or a
        few levels, that names `folder` as its migrations."""
        for level, above in enumerate(folder.parents):
            if level >= _MARKER_LEVELS:
                break
            found = [m for m in read_markers(above).folders if m.folder == folder]
            if found:  # PostgreSQL first, as read_markers chose
                return next((m for m in found if not m.other_database), found[0])
            if above == self.config.root:
                break
        return None

    def _skip_folder(self, folder: Path, display: str, reason: str) -> None:
        """List the SQL files of a folder that is not a migration history here, each with `reason`:
        below it for seeds and Flyway (which scans locations recursively), in it for sql-migrate."""
        for path in files_in(folder, "") if folder in self._flat else walk_files(folder, ""):
            if ".sql" in path.name.lower() and not companion(path.name):
                self.skipped.setdefault(os.path.join(display, os.path.relpath(path, folder)), reason)

    def _add_file(self, path: Path, given: str) -> None:
        versioned = versioned_folders.history_root(path.parent.resolve(), self.config.format)
        if not path.name.endswith(".sql") and not (versioned and versioned_folders.classify(path.name)):
            # Alembic revisions were claimed before; anything else is no migration this reads.
            self.findings.append(findings.input_error(
                given, f"not a migration file migrasafe reads: {given} (SQL files and Alembic revisions)",
                fix="name the migration files or their folder"))
            return
        folder = path.parent.resolve()
        file = folder / path.name
        if path.name in ("up.sql", "down.sql") and self._format_of(folder.parent) == "diesel":
            root, fmt, levels = folder.parent, "diesel", 2
        elif path.name in ("migration.sql", "down.sql") and self._format_of(folder.parent) == "prisma":
            root, fmt, levels = folder.parent, "prisma", 2
        elif versioned is not None:  # a file of a version folder: checked after the releases before it
            root, fmt, levels = versioned, versioned_folders.NAME, len(file.relative_to(versioned).parts)
        elif (owner := self._project_of(folder)) is not None:  # a script below its project's plan
            root, fmt = owner
            levels = len(file.relative_to(root).parts)
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
        elif file in history.skipped:
            # The tool does not run this file here (another dialect, below a baseline): say so.
            self.skipped[given] = history.skipped[file]
            self.origins[given] = None
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
                layout, display = find_layout(folder) or revision_folder_layout(folder), given
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
            layout = layout_of_revision(file) or revision_folder_layout(file.parent)
        if layout is not None and file.parent in layout.other_locations:
            self.skipped[given] = f"an Alembic revision folder that is not read: {layout.locations_reason}"
            self.origins[given] = None
            return True
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

    def _add_django(self, path: Path, given: str) -> bool:
        """Claim a Django project (manage.py, or apps' migrations/ packages); False when it is not one."""
        if self.config.format not in (None, DJANGO) or (path.suffix != ".py" and not path.is_dir()):
            return False
        from .django.layout import find_layout as find_django, layout_of_file  # no Django import

        settings = self.config.django.get("settings") if isinstance(self.config.django, dict) else None
        if path.is_dir():
            layout = find_django(path, settings)
            if layout is None:
                if self.config.format == DJANGO:
                    self.findings.append(findings.input_error(
                        given, f"no Django migrations in {given}: expected apps with migrations/ packages of "
                               f"NNNN_name.py files"))
                    return True
                return False
            folder = path.resolve()
            if layout.root == folder:
                self._django_request(layout, given).whole = True
                return True
            if folder.is_relative_to(layout.root):  # an app, or its migrations: after what they depend on
                request = self._django_request(layout, os.path.relpath(layout.root))
                for file in layout.migration_files():
                    if file.resolve().is_relative_to(folder):
                        request.named.setdefault(file.resolve(), os.path.join(given, os.path.relpath(file, folder)))
                return True
            # The apps are further down: other histories in the folder are still looked for.
            display = os.path.join(given, os.path.relpath(layout.root, folder))
            self._django_request(layout, display).whole = True
            return self.config.format == DJANGO
        if path.suffix != ".py":
            return False
        layout = layout_of_file(path, settings)
        if layout is None:
            return False
        file = path.resolve()
        levels = len(file.relative_to(layout.root).parts)
        self._django_request(layout, _display_root(given, levels, layout.root)).named.setdefault(file, given)
        return True

    def _django_request(self, layout, display: str) -> Request:
        key = f"{DJANGO}:{layout.key}"
        self.django.setdefault(key, (layout, display))
        return self._request(key, layout.root, DJANGO, display)

    def _alembic_request(self, layout: Layout, display: str) -> Request:
        key = f"{ALEMBIC}:{layout.key}"
        self.alembic.setdefault(key, (layout, display))
        return self._request(key, layout.script_location or layout.folder, ALEMBIC, display)

    def _project_of(self, folder: Path) -> tuple[Path, str] | None:
        for name, marker in ROOTED.items():  # a reader is imported only when its marker holds
            if self.config.format in (None, name) and marker(folder):
                root = FORMATS[name].root_of(folder)
                if root is not None:
                    return root, name
        return None

    def _format_of(self, folder: Path) -> str | None:
        return self.config.format or detect_format(folder)

    def _request(self, key: str, root: Path, fmt: str, display_root: str) -> Request:
        if key not in self.requests:
            self.requests[key] = Request(root=root, format=fmt, display_root=display_root)
        if self._given is not None and key not in self.origins[self._given]:
            self.origins[self._given].append(key)
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
        counts: dict[str, int] = {}
        for key, request in self.requests.items():
            before = len(self.findings)
            found = self._migrations_of(key, request)
            # A history whose reading reported an input error has said why it yields nothing.
            counts[key] = len(found) or (len(self.findings) > before)
            out.extend(found)
        for given, keys in self.origins.items():
            if keys is not None and not any(counts.get(k) for k in keys):
                self.findings.append(_nothing_read(given, keys, self.requests))
        return out

    def _migrations_of(self, key: str, request: Request) -> list[Migration]:
        if request.format == ALEMBIC:
            return self._alembic_migrations(key, request)
        if request.format == DJANGO:
            return self._django_migrations(key, request)
        fmt = FORMATS[request.format]
        if request.standalone is not None:
            return [self._build(request.standalone, fmt, request, key, context=False)]
        history = self._history(request.root, request.format)
        self._report_problems(history, request.display_root)
        if request.whole:  # a file named alone says nothing about the rest of its folder
            self._report_unread(history, fmt, request.display_root)
        if request.undo is not None:
            before = _up_to_version(history, request.undo.version)
            return [self._build(e, fmt, request, key, context=True) for e in before] + [
                self._build(request.undo, fmt, request, key, context=False)
            ]
        if self.config.start is not None or self.config.stop is not None:
            return self._from_start(key, request, history, fmt)
        if request.whole:
            return [self._build(e, fmt, request, key, context=False) for e in history.forward]
        last = max(i for i, e in enumerate(history.forward) if e.file in request.named)
        return [
            self._build(e, fmt, request, key, context=e.file not in request.named)
            for e in history.forward[: last + 1]
        ]

    def _from_start(self, key: str, request: Request, history: History, fmt: SourceFormat) -> list[Migration]:
        """--from: the history's migrations up to the named one are applied (read as context), the
        ones after it are pending, and a tool that runs every pending migration in one transaction
        (Drizzle) runs them as one. --to: the migrations after the named one are not read."""
        from .ranges import NoRange, history_range  # only with --from or --to

        shown = request.display_root or "."
        if not request.whole or request.undo is not None:
            option = f"--from {self.config.start}" if self.config.start is not None else f"--to {self.config.stop}"
            self.findings.append(findings.input_error(
                next(iter(request.named.values()), shown),
                f"{option} applies to a whole history, not to files named one by one",
                fix="name the history's folder with it, or name the pending files without it"))
            return []
        chosen = history_range(history, fmt.name, shown, self.config.start, self.config.stop)
        if isinstance(chosen, NoRange):
            self.findings.append(findings.input_error(shown, chosen.message, fix=chosen.fix))
            return []
        return [self._build(e, fmt, request, key, context=chosen.applied is not None and i <= chosen.applied)
                for i, e in enumerate(history.forward[: chosen.last + 1])]

    def _alembic_migrations(self, key: str, request: Request) -> list[Migration]:
        from .alembic.read import read_project  # loads Alembic and SQLAlchemy: only for Alembic projects

        layout, display = self.alembic[key]
        if layout.version_locations == ():
            self.findings.append(findings.input_error(display or ".", f"no Alembic revision to read: "
                                                      f"{layout.locations_reason}"))
            return []
        migrations, problems = read_project(layout, self.config, display, {} if request.whole else request.named,
                                            downgrade=self.backward)
        self.findings.extend(problems)
        if layout.locations_reason:
            for migration in migrations:  # which revision folders were read, where the layout had a choice
                migration.transaction_reason += f" ({layout.locations_reason})"
            self._report_other_locations(layout, display)
        return migrations

    def _report_other_locations(self, layout: Layout, display: str) -> None:
        for folder in layout.other_locations:
            for file in sorted(folder.glob("*.py")):
                shown = os.path.join(display, os.path.relpath(file, layout.folder)) if display else str(file)
                self.skipped.setdefault(shown, f"an Alembic revision folder that is not read: {layout.locations_reason}")

    def _django_migrations(self, key: str, request: Request) -> list[Migration]:
        from .django.read import read_project as read_django  # Django loads in a child process only

        layout, display = self.django[key]
        if self.config.start is not None or self.config.stop is not None:
            option = f"--from {self.config.start}" if self.config.start is not None else f"--to {self.config.stop}"
            self.findings.append(findings.input_error(
                display or ".", f"{option} is not supported for the Django layout: its "
                "migrations form a graph per app, not one ordered history",
                fix="name the pending migration files instead, or use --since"))
            return []
        cache = not isinstance(self.config.django, dict) or self.config.django.get("cache", True)
        reading = read_django(layout, self.config, display, {} if request.whole else request.named, use_cache=cache,
                              backwards=self.backward)
        self.findings.extend(reading.findings)
        self.skipped.update(reading.skipped)
        return reading.migrations

    def _report_problems(self, history: History, display_root: str) -> None:
        if (history.root, history.format) in self.reported:
            return
        self.reported.add((history.root, history.format))
        self.findings.extend(
            findings.input_error(display_path(display_root, p.rel), p.message, p.line, fix=p.fix)
            for p in history.problems
        )

    def _report_unread(self, history: History, fmt: SourceFormat, display_root: str) -> None:
        if (history.root, history.format, "unread") in self.reported:
            return
        self.reported.add((history.root, history.format, "unread"))
        for file, reason in sorted(unread_files(history, fmt.code_migrations, fmt.name).items()):
            shown = display_path(display_root, os.path.relpath(file, history.root))
            self.skipped.setdefault(shown, reason)
            if file.suffix in fmt.code_migrations and is_code_migration(reason):
                self.findings.append(findings.not_checked(shown, reason))
            elif reason.startswith(BROKEN) and ".sql" in file.name.lower():
                self.findings.append(findings.input_error(shown, f"cannot read this migration: {reason}"))
        for folder, why in unreadable_folders(history.root):
            shown = display_path(display_root, os.path.relpath(folder, history.root))
            self.findings.append(findings.input_error(
                shown, f"cannot list folder {shown}: {why}; the migrations in it are not checked"))

    def _build(
        self, entry: Entry, fmt: SourceFormat, request: Request, history_key: str, context: bool
    ) -> Migration:
        if self.config.cache and run_scope(fmt, self.config, entry) != "run":
            history = self.histories.get((request.root, request.format))
            companions = self._companions.get(history_key)
            if companions is None:
                companions = self._companions[history_key] = history_digest(history) if history else ""
            display = request.named.get(entry.file, "") or display_path(request.display_root, entry.rel)
            lazy = placeholder(entry, fmt.name, display, history_key, context, companions,
                               lambda: self._read(entry, fmt, request, history_key, context))
            if lazy is not None:
                return lazy
        return self._read(entry, fmt, request, history_key, context)

    def _read(
        self, entry: Entry, fmt: SourceFormat, request: Request, history_key: str, context: bool
    ) -> Migration:
        display = request.named.get(entry.file, "")
        migration = build_migration(entry, fmt, request.display_root, self.config, display=display)
        migration.meta["history"] = history_key
        migration.meta["context"] = context
        if run_scope(fmt, self.config, entry) == "run":
            self._join_run(migration, fmt, request, history_key, entry.options.get("run_reason"))
        return migration

    def _join_run(self, migration: Migration, fmt: SourceFormat, request: Request, history_key: str,
                  reason: str | None = None) -> None:
        """The tool applies every pending migration in one transaction. Which ones are pending is
        known only when the user says (files named, --since); a whole history, which production
        received over many deploys, is checked one migration per run. `reason`: the project's own
        setting that makes it so (Atlas's tx-mode all), when it is not the tool's default."""
        runs_all = reason or _runs_all(fmt)
        migration.in_transaction = True
        ranged = not request.whole or self.config.changed is not None or self.config.start is not None
        if not ranged:
            migration.transaction_reason = (f"{runs_all}; the history was applied over many deploys, so "
                                            "each migration is checked as its own run (name the pending files, "
                                            "or use --since, to check them as one)")
            return
        pending = not migration.meta["context"] and (
            self.config.changed is None or Path(migration.meta["file"]) in self.config.changed)
        request.run_started = request.run_started or pending
        if request.run_started:
            migration.meta["session"] = f"run:{history_key}"
            migration.meta["shared_transaction"] = True
            migration.transaction_reason = (f"{runs_all}: locks taken by earlier migrations of the run "
                                            "are held until it commits")
        else:
            migration.transaction_reason = runs_all


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


def run_scope(fmt: SourceFormat, config: Config, entry: Entry | None = None) -> str:
    """"file" or "run": does the tool commit after each migration, or after all pending ones?"""
    scope = config.transaction_scope
    # The project's own settings (Atlas's tx-mode all in atlas.hcl) come before the tool's default.
    default = (entry.options.get("transaction_scope") if entry is not None else None) or fmt.runner.scope
    if isinstance(scope, dict):
        return scope.get(fmt.name, scope.get("default", default))
    return scope or default


def _runs_all(fmt: SourceFormat) -> str:
    if fmt.runner.scope == "run":
        return fmt.runner.wrapped
    return f"all pending {fmt.name} migrations run in one transaction (transaction_scope in the configuration)"


def _unusable_path(path: Path) -> str | None:
    """Why a path named on the command line cannot be read at all, or None."""
    try:
        info = path.stat()
    except OSError as err:
        if path.is_symlink():
            if err.errno == errno.ELOOP:
                return f"a symbolic link loop: {path}"
            return f"a symbolic link to a missing file: {path} -> {os.readlink(path)}"
        if err.errno == errno.ENOENT:
            return f"path does not exist: {path}"
        return f"cannot read {path}: {err.strerror or err}"
    if stat.S_ISDIR(info.st_mode):
        try:
            with os.scandir(path):
                pass
        except OSError as err:
            return f"cannot list folder {path}: {err.strerror or err}"
        return None
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file (a pipe, socket or device), never opened: {path}"
    if not os.access(path, os.R_OK):
        return f"cannot read {path}: permission denied"
    return None


def _nothing_read(given: str, keys: list[str], requests: dict[str, Request]) -> Finding:
    named = [requests[k] for k in keys]
    if named and all(r.format != "sql" for r in named):
        layout = ", ".join(sorted({r.format for r in named}))
        message = f"no migration found in {given}: the {layout} layout there lists no migration to run"
    else:
        message = (f"no migration found in {given}; looked for {layouts_looked_for()}; Alembic (alembic.ini, or env.py "
                   f"beside versions/); a folder named by {', '.join(MARKER_NAMES[:-1])} or {MARKER_NAMES[-1]}")
    return findings.input_error(given, message, fix="name the folder that holds the migrations, or pass --source-format")
