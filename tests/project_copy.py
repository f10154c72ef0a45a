"""A copy of migrasafe's own source, for tests that install it the way users do.

The copy holds what packaging needs (and the action and hook manifests), taken from the working
tree, so uncommitted changes are what gets tested.
"""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("pyproject.toml", "README.md", "LICENSE", "action.yml", ".pre-commit-hooks.yaml")
FOLDERS = ("migrasafe", "rules")


def copy_project(destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, destination / name)
    for name in FOLDERS:
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


PYPI_DOWN = ("Could not find a version", "NewConnectionError", "Temporary failure in name resolution",
             "No matching distribution", "Network is unreachable", "ConnectTimeout")


def looks_offline(output: str) -> bool:
    """Did an install fail because PyPI could not be reached (rather than because of migrasafe)?"""
    return any(marker in output for marker in PYPI_DOWN)
