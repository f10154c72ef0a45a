"""What a Django migration file says, read with Python's `ast` and never run.

    facts = read_migration_file(path)
    facts.operations[i]   # Position of the i-th entry of `operations = [...]`
    facts.dependencies    # [("app", "0001_initial"), ("__setting__", "AUTH_USER_MODEL"), ...]

Django's migration loader imports the file and reads the `Migration` class
(django/db/migrations/loader.py, `load_disk`); this reads the same class from the syntax tree,
so that the parent process can place statements on their operation, key the cache and find
projects without importing Django or the project.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

# Django's own naming for generated migrations (`0001_initial.py`); a file of any name holding
# a `Migration` class is loaded, but discovery only trusts the numbered ones.
MIGRATION_NAME = re.compile(r"^\d{4}_\w+\.py$")


@dataclass(frozen=True)
class Position:
    line: int
    end_line: int
    column: int  # 1-based


@dataclass
class MigrationFile:
    path: Path
    app: str
    name: str
    has_class: bool = False
    class_line: int = 1
    operations: list[Position] = field(default_factory=list)
    operations_literal: bool = False  # `operations` is a list literal (positions are per entry)
    operations_line: int = 1  # the `operations =` assignment
    dependencies: list[tuple[str, str]] = field(default_factory=list)
    replaces: list[tuple[str, str]] = field(default_factory=list)
    run_before: list[tuple[str, str]] = field(default_factory=list)
    atomic: bool | None = None  # None: not set in the class (Django's default, True)
    atomic_line: int | None = None
    syntax_error: tuple[int, str] | None = None
    created_models: list[str] = field(default_factory=list)  # CreateModel(name=...) in operations

    def position_of(self, index: int | None) -> Position:
        if index is not None and self.operations_literal and 0 <= index < len(self.operations):
            return self.operations[index]
        line = self.operations_line if self.has_class else 1
        return Position(line, line, 1)


def read_migration_file(path: Path, text: str | None = None) -> MigrationFile:
    facts = MigrationFile(path=path, app=path.parent.parent.name, name=path.stem)
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as err:
        facts.syntax_error = (err.lineno or 1, err.msg)
        return facts
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            facts.has_class = True
            facts.class_line = node.lineno
            _read_class(node, facts)
    return facts


def defines_migration(text: str) -> bool:
    """Cheap test for discovery: a top-level `class Migration(...migrations.Migration)`."""
    return re.search(r"^class Migration\((?:\w+\.)*Migration\)\s*:", text, re.M) is not None


def _read_class(node: ast.ClassDef, facts: MigrationFile) -> None:
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            value = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets, value = [statement.target.id], statement.value
        else:
            continue
        if value is None:
            continue
        for target in targets:
            if target == "operations":
                facts.operations_line = statement.lineno
                if isinstance(value, (ast.List, ast.Tuple)):
                    facts.operations_literal = True
                    facts.operations = [_position(e) for e in value.elts]
                    facts.created_models = [n for n in map(_created_model, value.elts) if n]
            elif target == "dependencies":
                facts.dependencies = _keys(value)
            elif target == "replaces":
                facts.replaces = _keys(value)
            elif target == "run_before":
                facts.run_before = _keys(value)
            elif target == "atomic" and isinstance(value, ast.Constant) and isinstance(value.value, bool):
                facts.atomic, facts.atomic_line = value.value, statement.lineno


def _created_model(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call) or getattr(node.func, "attr", getattr(node.func, "id", "")) != "CreateModel":
        return None
    for keyword in node.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def _position(node: ast.expr) -> Position:
    return Position(node.lineno, node.end_lineno or node.lineno, node.col_offset + 1)


def _keys(value: ast.expr) -> list[tuple[str, str]]:
    if not isinstance(value, (ast.List, ast.Tuple)):
        return []
    keys = []
    for element in value.elts:
        if isinstance(element, (ast.Tuple, ast.List)) and len(element.elts) == 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in element.elts):
            keys.append((element.elts[0].value, element.elts[1].value))
        elif isinstance(element, ast.Call) and element.args:
            # migrations.swappable_dependency(settings.AUTH_USER_MODEL)
            argument = element.args[0]
            if isinstance(argument, ast.Attribute):
                keys.append(("__setting__", argument.attr))
            elif isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                keys.append((argument.value.partition(".")[0], "__first__"))
    return keys
