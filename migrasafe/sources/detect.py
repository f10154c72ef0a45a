"""Which tool a folder of migrations is written for, asked of each format in the registry's order."""
from __future__ import annotations

from pathlib import Path

from .listing import files_in
from .registry import DETECTION_ORDER, FORMATS


def detect_format(folder: Path) -> str | None:
    """The format of the migrations in `folder`, or None when it holds none."""
    for fmt in DETECTION_ORDER:
        if fmt.detect is not None and fmt.detect(folder):
            return fmt.name
    return "sql" if files_in(folder) else None


def layouts_looked_for() -> str:
    """The layouts detection knows, for the message when a path holds no migration."""
    return "; ".join(f.looks_like for f in FORMATS.values() if f.looks_like)
