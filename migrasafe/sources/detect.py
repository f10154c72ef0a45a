"""Which tool a folder of migrations is written for, asked of each format in the registry's order."""
from __future__ import annotations

from pathlib import Path

from .listing import files_in
from .registry import FORMATS, READERS


def detect_format(folder: Path) -> str | None:
    """The format of the migrations in `folder`, or None when it holds none. A reader is imported
    only when the folder passes its format's marker (registry.py)."""
    for name, (_, marker) in READERS.items():
        if marker(folder):
            detect = FORMATS[name].detect
            if detect is not None and detect(folder):
                return name
    return "sql" if files_in(folder) else None


def layouts_looked_for() -> str:
    """The layouts detection knows, for the message when a path holds no migration."""
    return "; ".join(f.looks_like for f in FORMATS.values() if f.looks_like)
