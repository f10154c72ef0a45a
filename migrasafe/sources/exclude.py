"""`exclude` globs from the configuration, matched against paths relative to the config folder."""
from __future__ import annotations

import fnmatch
from pathlib import Path


def is_excluded(path: Path, patterns: list[str], root: Path | None) -> bool:
    if not patterns:
        return False
    base = (root or Path.cwd()).resolve()
    target = path.resolve()
    try:
        rel = target.relative_to(base).as_posix()
    except ValueError:
        rel = target.as_posix()
    # A pattern naming a folder excludes everything below it, so test each ancestor too.
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(_matches(candidate, pattern) for pattern in patterns for candidate in candidates)


def _matches(rel: str, pattern: str) -> bool:
    pattern = pattern.strip().rstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    # `**/name` also names `name` at the top; fnmatch's `*` already crosses folders.
    while pattern.startswith("**/"):
        pattern = pattern[3:]
        if fnmatch.fnmatchcase(rel, pattern):
            return True
    return False
