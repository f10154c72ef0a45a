"""Run-order keys. Each tool orders differently, so each gets its own key, named after it."""
from __future__ import annotations

import re

# A leading version token of a plain file name: 2, 0003, 20240101120000, 1.2.10.
LEADING_VERSION = re.compile(r"\d+(?:\.\d+)*")


def natural_key(name: str) -> tuple:
    """Plain SQL files: numeric version prefix part by part, then the name; unnumbered files last."""
    match = LEADING_VERSION.match(name)
    if not match:
        return (1, (), name)
    parts = tuple(int(p) for p in match.group(0).split("."))
    return (0, parts, name)


def flyway_version_key(version: str) -> tuple[int, ...] | None:
    """Flyway's MigrationVersion: `_` means `.`, parts compare as integers, trailing zeros are equal.

    None when Flyway would reject the version.
    """
    parts = version.replace("_", ".").split(".")
    if not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def integer_key(version: str, name: str) -> tuple[int, str]:
    """golang-migrate parses the version as an unsigned integer."""
    return (int(version), name)


def string_key(version: str, name: str) -> tuple[str, str]:
    """popx, diesel and dbmate compare version strings byte by byte, not as numbers."""
    return (version, name)


def same_version(fmt: str, a: str, b: str) -> bool:
    """Do two file names declare the same migration version, as the tool reads them?"""
    if fmt == "flyway":
        return flyway_version_key(a) == flyway_version_key(b)
    if fmt == "golang-migrate":
        return a.isdigit() and b.isdigit() and int(a) == int(b)
    return a == b
