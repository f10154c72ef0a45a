"""Django: two leaf migrations in one app, neither depending on the other.

`manage.py migrate` stops with "Conflicting migrations detected; multiple leaf nodes in the
migration graph: (0003_a, 0003_b in shop). To fix them run 'python manage.py makemigrations
--merge'" (django/core/management/commands/migrate.py, `MigrationLoader.detect_conflicts`: a leaf
is a node with no child in its own app). The graph is the one the files declare, read with
sources/django/files.py (`dependencies`, `run_before`, `replaces`), never by importing them; app
labels are the ones Django gave the migrations it loaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Migration
from .found import Found
from .ids import CONFLICTING_LEAVES

if TYPE_CHECKING:
    from ..sources.django.files import MigrationFile


def conflicting_leaves(migrations: list[Migration], changed: frozenset[Path] | None) -> list[Found]:
    apps: dict[Path, str] = {}  # migrations folder → app label
    for migration in migrations:
        file = migration.meta.get("file")
        root = Path(migration.meta.get("history", "").partition(":")[2])
        # Django's own apps and installed packages are read for their tables, not judged.
        if migration.format == "django" and file and Path(file).is_relative_to(root):
            apps.setdefault(Path(file).parent, migration.meta.get("app", ""))
    out: list[Found] = []
    for folder, label in sorted(apps.items()):
        leaves = _leaves(folder, label)
        if len(leaves) < 2:
            continue
        leaves.sort(key=lambda f: (changed is not None and f.path in changed, f.name))
        on = leaves[-1]
        names = ", ".join(f.name for f in sorted(leaves, key=lambda f: f.name))
        out.append(Found(
            CONFLICTING_LEAVES, on.path, on.class_line,
            f"app {label} has {len(leaves)} leaf migrations, {names}, and neither depends on the other: "
            f"`manage.py migrate` stops with \"Conflicting migrations detected; multiple leaf nodes in the "
            f"migration graph: ({names} in {label})\"",
            f"python manage.py makemigrations --merge {label}", involves=tuple(f.path for f in leaves)))
    return out


def _leaves(folder: Path, label: str) -> list[MigrationFile]:
    from ..sources.django.files import read_migration_file  # only for a Django history

    nodes: dict[str, MigrationFile] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name[0] in "_~":
            continue
        facts = read_migration_file(path.resolve())
        if facts.has_class:
            nodes[facts.name] = facts
    # On a database that has none of them, a squashed migration stands for those it replaces.
    replaced = {name: squash.name for squash in nodes.values() for app, name in squash.replaces if app == label}
    for name in replaced:
        nodes.pop(name, None)
    has_child: set[str] = set()
    for facts in nodes.values():
        for app, parent in facts.dependencies:
            if app == label:
                has_child.add(replaced.get(parent, parent))
        if any(app == label and replaced.get(child, child) in nodes for app, child in facts.run_before):
            has_child.add(facts.name)
    return [f for name, f in nodes.items() if name not in has_child]
