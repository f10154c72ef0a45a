"""Django's MigrationLoader, made to keep going where one file or one missing app would stop it.

Django's own loader (django/db/migrations/loader.py) raises on the first migration that does not
import and on a dependency on an app that is not installed (NodeNotFoundError). Here a file that
does not import is reported on its own and left out; a dependency on an app that is not
installed (and has no migrations here) is dropped and reported once per app, the migrations that
depend on it still loaded. Everything else (the graph, squashed migrations, the order) is
Django's.
"""
from __future__ import annotations

import importlib.util
import pkgutil
import sys
import traceback
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from .files import read_migration_file


@dataclass
class Plan:
    migrations: list = field(default_factory=list)  # Django Migration objects, in apply order
    entries: list[dict] = field(default_factory=list)  # the same, as plain data
    skipped: dict[str, str] = field(default_factory=dict)  # file → why Django does not apply it here
    external: dict[str, list[str]] = field(default_factory=dict)  # app label → files depending on it
    load_errors: dict[str, dict] = field(default_factory=dict)  # file → {"line", "message"}


class TolerantLoader(MigrationLoader):
    def load_disk(self):
        self.files: dict[tuple[str, str], str] = {}
        self.load_errors: dict[str, dict] = {}
        self.external: dict[str, list[str]] = {}
        self.disk_migrations = {}
        self.unmigrated_apps = set()
        self.migrated_apps = set()
        for app_config in apps.get_app_configs():
            module_name, explicit = self.migrations_module(app_config.label)
            if module_name is None:
                self.unmigrated_apps.add(app_config.label)
                continue
            try:
                module = import_module(module_name)
            except ModuleNotFoundError:  # an app without migrations (Django's own rule)
                self.unmigrated_apps.add(app_config.label)
                continue
            if not hasattr(module, "__path__"):
                self.unmigrated_apps.add(app_config.label)
                continue
            self.migrated_apps.add(app_config.label)
            names = sorted(name for _, name, is_pkg in pkgutil.iter_modules(module.__path__)
                           if not is_pkg and name[0] not in "_~")
            for name in names:
                self._load_one(app_config.label, f"{module_name}.{name}", name)
        self._drop_missing()

    def _load_one(self, label: str, path: str, name: str) -> None:
        spec = importlib.util.find_spec(path)
        file = str(Path(spec.origin).resolve()) if spec and spec.origin else path
        try:
            module = import_module(path)
        except BaseException as error:  # the file's own code: any failure costs only this file
            if isinstance(error, KeyboardInterrupt):
                raise
            self.load_errors[file] = {"line": _line_in(error, file), "message": _describe(error)}
            sys.modules.pop(path, None)
            self._placeholder(label, name, file)
            return
        migration_class = getattr(module, "Migration", None)
        if migration_class is None:
            self.load_errors[file] = {"line": 1, "message": f"{name}.py has no Migration class (Django refuses it)"}
            return
        try:
            self.disk_migrations[label, name] = migration_class(name, label)
        except Exception as error:
            self.load_errors[file] = {"line": _line_in(error, file), "message": _describe(error)}
            return
        self.files[label, name] = file

    def _placeholder(self, label: str, name: str, file: str) -> None:
        """A migration that did not load keeps its place in the graph (dependencies as its syntax
        says), with no operations: the migrations around it are ordered as Django would order them."""
        from django.conf import settings
        from django.db import migrations

        try:
            facts = read_migration_file(Path(file))
        except OSError:
            return
        if not facts.has_class:
            return
        dependencies = []
        for app, parent in facts.dependencies:
            if app == "__setting__":
                app, parent = (getattr(settings, parent, None) or ".").partition(".")[0], "__first__"
            dependencies.append((app, parent))
        placeholder = type("Migration", (migrations.Migration,), {
            "dependencies": dependencies, "replaces": list(facts.replaces), "run_before": list(facts.run_before),
            "operations": [], "atomic": facts.atomic is not False})
        self.disk_migrations[label, name] = placeholder(name, label)
        self.files[label, name] = file

    def _drop_missing(self) -> None:
        """Dependencies on apps that are not installed, and on files that did not load."""
        known = self.migrated_apps | self.unmigrated_apps
        for key, migration in self.disk_migrations.items():
            kept = []
            for parent in migration.dependencies:
                if parent[0] not in known:
                    self.external.setdefault(parent[0], []).append(self.files[key])
                else:
                    kept.append(parent)
            migration.dependencies = kept
            migration.run_before = [c for c in migration.run_before if c[0] in known]

    def plan(self) -> Plan:
        plan = Plan(skipped={}, external=self.external, load_errors=self.load_errors)
        seen = set()
        for target in sorted(self.graph.leaf_nodes()):
            for key in self.graph.forwards_plan(target):
                if key in seen:
                    continue
                seen.add(key)
                migration = self.graph.nodes[key]
                plan.migrations.append(migration)
                plan.entries.append({"app": key[0], "name": key[1], "file": self.files.get(key, ""),
                                     "atomic": bool(migration.atomic),
                                     "replaces": [list(r) for r in migration.replaces]})
        for squash_key, squash in self.replacements.items():
            if squash_key not in seen:
                continue
            for replaced in squash.replaces:
                file = self.files.get(tuple(replaced))
                if file:
                    plan.skipped[file] = (f"replaced by the squashed migration {squash_key[0]}.{squash_key[1]}, "
                                          f"which Django applies instead on a database that has none of them")
        for key, file in self.files.items():
            if key not in seen and file not in plan.skipped:
                plan.skipped[file] = "not in Django's migration plan for these apps"
        return plan


def _line_in(error: BaseException, file: str) -> int:
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename).resolve() == Path(file):
        return error.lineno or 1
    line = 1
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == Path(file):
            line = lineno
    return line


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

