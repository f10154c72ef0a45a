"""Where a Django project keeps its migrations, found without importing Django or the project.

A project is found by `manage.py` (its `DJANGO_SETTINGS_MODULE` is read from the file's text,
as `django-admin startproject` writes it: `os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`),
or by apps' `migrations/` packages holding `NNNN_name.py` files that define
`class Migration(migrations.Migration)` (Django's loader: django/db/migrations/loader.py).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .files import MIGRATION_NAME, defines_migration

_SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_SEARCH_DEPTH = 6
_NOT_SEARCHED = {"node_modules", "site-packages", "__pycache__", "venv", "env", "build", "dist"}
_SNIFF = 64 * 1024


@dataclass
class App:
    label: str  # the folder's name: Django's default app label
    folder: Path  # the app package (the migrations/ folder's parent)

    @property
    def migrations(self) -> Path:
        return self.folder / "migrations"


@dataclass
class Layout:
    root: Path  # the project root (manage.py's folder, or the folder named)
    settings_module: str | None = None
    settings_line: int | None = None
    manage_py: Path | None = None
    apps: list[App] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.root)

    def migration_files(self) -> list[Path]:
        # Django loads every module of the package whose name does not start with _ or ~.
        return sorted(f for app in self.apps for f in app.migrations.glob("*.py") if f.name[0] not in "_~")


def settings_from_manage_py(path: Path) -> tuple[str | None, int | None]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:_SNIFF]
    except OSError:
        return None, None
    found = _SETTINGS.search(text)
    if found is None:
        return None, None
    return found.group(1), text.count("\n", 0, found.start()) + 1


def is_migrations_package(folder: Path) -> bool:
    if folder.name != "migrations" or not folder.is_dir():
        return False
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return False
    for name in names:
        if MIGRATION_NAME.match(name):
            try:
                with open(folder / name, encoding="utf-8", errors="replace") as handle:
                    if defines_migration(handle.read(_SNIFF)):
                        return True
            except OSError:
                continue
    return False


def find_apps(root: Path, depth: int = _SEARCH_DEPTH) -> list[App]:
    apps: list[App] = []

    def walk(folder: Path, level: int) -> None:
        if level > depth:
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False) or entry.name.startswith(".") or entry.name in _NOT_SEARCHED:
                continue
            sub = Path(entry.path)
            if is_migrations_package(sub):
                apps.append(App(label=folder.name, folder=folder))
                continue
            walk(sub, level + 1)

    if is_migrations_package(root / "migrations"):
        apps.append(App(label=root.name, folder=root))
    walk(root, 0)
    unique: dict[Path, App] = {}
    for app in apps:
        unique.setdefault(app.folder, app)
    return list(unique.values())


def find_layout(folder: Path, settings_module: str | None = None) -> Layout | None:
    """The Django project `folder` holds or belongs to, or None when it holds no Django migration.

    An app (or its migrations/ folder) belongs to the project of the manage.py above it, else to
    the folder holding it and its sibling apps. A folder with manage.py is the project; a folder
    holding apps further down without one: the project is the folder holding all of them."""
    folder = folder.resolve()
    if folder.name == "migrations" and is_migrations_package(folder):
        folder = folder.parent
    if is_migrations_package(folder / "migrations"):
        above = next((p for p in [folder, *folder.parents][:_SEARCH_DEPTH + 1] if (p / "manage.py").is_file()), None)
        return _project(above or folder.parent, settings_module)
    return _project(folder, settings_module)


def _project(root: Path, settings_module: str | None) -> Layout | None:
    manage = root / "manage.py"
    module, line = settings_from_manage_py(manage) if manage.is_file() else (None, None)
    apps = find_apps(root)
    if not apps:
        return None
    if not manage.is_file():
        # Without manage.py the project is where the apps are, so that other migration
        # histories elsewhere in the tree are still found on their own.
        common = Path(os.path.commonpath([str(a.folder.parent) for a in apps]))
        if common.is_relative_to(root):
            root = common
    return Layout(root=root, settings_module=settings_module or module, settings_line=line,
                  manage_py=manage if manage.is_file() else None, apps=apps)


def layout_of_file(file: Path, settings_module: str | None = None) -> Layout | None:
    """The project a migration file belongs to."""
    file = file.resolve()
    if file.name[0] in "_~" or file.suffix != ".py" or not is_migrations_package(file.parent):
        return None
    return find_layout(file.parent, settings_module)
