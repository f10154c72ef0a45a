"""Django settings for rendering, in the child process: the project's own, or a minimal one.

With a settings module (manage.py's DJANGO_SETTINGS_MODULE, or --django-settings) the project's
settings are imported and only the database is replaced by the throwaway server. Without one
(only migration folders at hand), the configuration is built from what is on disk: one app per
`migrations/` package, its label the folder's name (AppConfig's default label:
https://docs.djangoproject.com/en/stable/ref/applications/#django.apps.AppConfig.label),
`MIGRATION_MODULES` pointing at it, and the contrib apps the migrations depend on.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
from pathlib import Path

CONTRIB = {"admin", "auth", "contenttypes", "sessions", "sites", "flatpages", "redirects", "messages"}
_APPS_MODULE = "_migrasafe_django_apps"


def database(uri_parts: dict) -> dict:
    return {"ENGINE": "django.db.backends.postgresql", "NAME": uri_parts["dbname"], "USER": uri_parts["user"],
            "HOST": uri_parts["host"], "PORT": "", "PASSWORD": "", "ATOMIC_REQUESTS": False,
            "OPTIONS": {}, "TEST": {}}


def use_project_settings(module: str, db: dict) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    from django.conf import settings

    settings.INSTALLED_APPS  # imports the settings module; raises when it cannot
    settings.DATABASES = {"default": db}
    settings.DATABASE_ROUTERS = []


def minimal_settings(apps: list[dict], root: Path, referenced: list[str], user_model: str | None,
                     db: dict) -> dict:
    """Configure Django from the folders alone; the module path used for each app folder."""
    from django.conf import settings

    folder_app = _folder_app()
    modules = _module_paths([Path(a["folder"]) for a in apps], root)
    holder = types.ModuleType(_APPS_MODULE)
    sys.modules[_APPS_MODULE] = holder
    installed, migration_modules = [], {}
    labels = {a["label"] for a in apps}
    contrib = sorted(({label for label in referenced if label in CONTRIB} | ({"auth", "contenttypes"}
                                                                          if user_model or "auth" in labels else set())))
    if "auth" in contrib or "admin" in contrib:
        contrib = sorted(set(contrib) | {"contenttypes"})
    # Every app, Django's own included, is known by its migrations alone: no models module is
    # imported and no ready() runs (contrib.auth's would look for a real AUTH_USER_MODEL class).
    for label in contrib:
        if label not in labels:
            installed.append(_register(holder, folder_app, label, f"django.contrib.{label}", None))
    # A third-party app the migrations depend on is used when it is installed here.
    installed += [label for label in sorted(set(referenced) - labels - CONTRIB) if _installed(label)]
    for app in apps:
        label, module = app["label"], modules[app["folder"]]
        migration_modules[label] = f"{module}.migrations"
        installed.append(_register(holder, folder_app, label, module, app["folder"]))
    from django.conf import global_settings

    from .standins import MissingSettings

    settings.configure(
        default_settings=MissingSettings(global_settings), INSTALLED_APPS=installed, MIGRATION_MODULES=migration_modules, DATABASES={"default": db},
        AUTH_USER_MODEL=user_model or "auth.User", USE_TZ=True, SECRET_KEY="migrasafe-rendering",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField", SITE_ID=1,
    )
    return modules


def _stand_in_packages(folders: list[Path], root: Path) -> None:
    """App folders (and the folders above them) without an __init__.py hold only migrations here:
    what a migration imports from them (`from saleor.payment import TransactionError`) is the
    application's code, which is not there, so they are stand-in packages."""
    from .standins import project_package

    for folder in folders:
        if not folder.is_relative_to(root):
            continue
        parts = folder.relative_to(root).parts
        for depth in range(1, len(parts) + 1):
            here = root.joinpath(*parts[:depth])
            name = ".".join(parts[:depth])
            if name not in sys.modules and not (here / "__init__.py").exists() and name.replace(".", "").isidentifier():
                project_package(name, str(here))


def _register(holder, folder_app, label: str, module: str, folder: str | None) -> str:
    name = f"App_{label}"
    attributes = {"name": module, "label": label}
    if folder is not None:
        attributes["path"] = folder
    setattr(holder, name, type(name, (folder_app,), attributes))
    return f"{_APPS_MODULE}.{name}"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(f"{module}.migrations") is not None
    except (ImportError, ValueError):
        return False


def _folder_app():
    from django.apps import AppConfig

    class FolderApp(AppConfig):
        """An app known only by its folder: its models come from its migrations' state alone."""

        def import_models(self):
            self.models = self.apps.all_models[self.label]
            self.models_module = None

    return FolderApp


def _module_paths(folders: list[Path], project_root: Path) -> dict[str, str]:
    """Each app folder's dotted module path, from an import root added to sys.path.

    Migrations import their project by its package name (`import saleor.core...`, or relatively
    `from ...core import x`): apps side by side in a folder that is a package (an __init__.py, or
    a name the migrations import, like `saleor`) are that package's modules (`saleor.account`);
    otherwise they are top-level modules."""
    parents = {f.parent for f in folders}
    common = Path(os.path.commonpath([str(p) for p in parents])) if parents else project_root
    package = common.name.isidentifier() and (
        (common / "__init__.py").is_file() or _imported_by_name(folders, common.name))
    root = common.parent if package and len(parents) == 1 else common
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    _stand_in_packages(folders, root)
    return {str(f): ".".join(f.relative_to(root).parts) if f.is_relative_to(root) else f.name for f in folders}


def _imported_by_name(folders: list[Path], name: str) -> bool:
    """Do the migrations import `name.something` (their project's package)?"""
    pattern = re.compile(rf"^\s*(?:from|import)\s+{re.escape(name)}\.", re.M)
    for folder in folders:
        for file in sorted((folder / "migrations").glob("*.py"))[:50]:
            try:
                if pattern.search(file.read_text(encoding="utf-8", errors="replace")):
                    return True
            except OSError:
                continue
    return False
