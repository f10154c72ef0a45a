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
    """The Django project rooted at `folder`, or None when it holds no Django migration."""
    folder = folder.resolve()
    if folder.name == "migrations" and is_migrations_package(folder):
        folder = folder.parent  # one app's migrations folder named: the app is the project
    manage = folder / "manage.py"
    module, line = settings_from_manage_py(manage) if manage.is_file() else (None, None)
    apps = find_apps(folder)
    if not apps:
        return None
    return Layout(root=folder, settings_module=settings_module or module, settings_line=line,
                  manage_py=manage if manage.is_file() else None, apps=apps)


def layout_of_file(file: Path, settings_module: str | None = None) -> Layout | None:
    """The project a migration file belongs to: manage.py above it, else the apps beside its app."""
    file = file.resolve()
    migrations = file.parent
    if not MIGRATION_NAME.match(file.name) or not is_migrations_package(migrations):
        return None
    app = migrations.parent
    above = app.parent
    for candidate in [app, *app.parents][:_SEARCH_DEPTH + 1]:
        if (candidate / "manage.py").is_file():
            return find_layout(candidate, settings_module)
    return find_layout(above, settings_module)
