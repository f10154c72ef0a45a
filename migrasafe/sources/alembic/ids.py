"""A revision file's ids as its source assigns them, read with Python's `ast`, never run: the
literal `revision`, `down_revision`, `branch_labels` and `depends_on`, as Alembic's templates write
them. Imports nothing of Alembic, so the parent process can read a history without loading it."""
from __future__ import annotations

import ast

ID_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


def literal_ids(source: str) -> dict[str, tuple[object, int]] | None:
    """Name → (value, line) of each module-level literal assignment; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None)
        if isinstance(target, ast.Name) and target.id in ID_NAMES:
            try:
                values[target.id] = (ast.literal_eval(node.value), node.lineno)
            except ValueError:
                continue
    return values
