"""Flyway: two migrations of one version, and the project's `outOfOrder` setting.

Flyway compares versions part by part as integers, `_` standing for `.` and trailing zero parts
not counting (`MigrationVersion`), so `V1__a.sql`, `V1.0__b.sql`, `V01__c.sql` and `V1_0__d.sql`
are one version. Its resolver then stops with "Found more than one migration with version 1"
followed by the offenders (flyway-core `CompositeMigrationResolver.checkForIncompatibilities`),
before any migration runs. Versioned (`V`) and baseline (`B`) scripts are separate series.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..sources import Listed
from ..sources.build import display_path
from ..sources.versions import flyway_version_key
from .found import Found
from .ids import DUPLICATE_VERSION

_PREFIX = {"versioned": "V", "baseline": "B"}


def is_flyway(listed: Listed) -> bool:
    history = listed.history
    if history.format == "flyway":
        return True
    entries = history.forward[:1] or []
    return history.format == "atlas" and bool(entries) and entries[0].options.get("atlas_format") == "flyway"


def duplicate_versions(listed: list[Listed], changed: frozenset[Path] | None) -> list[Found]:
    out: list[Found] = []
    for item in (i for i in listed if is_flyway(i)):
        from ..sources.flyway import parse_name  # the reader, only for a Flyway history

        history = item.history
        files = {e.file: (e.kind, e.version, e.rel) for e in history.forward}
        for file in history.skipped:  # below a baseline: still listed, still one of a version
            name = parse_name(file.name)
            if name is not None and file not in files:
                files[file] = (name.kind, name.version, os.path.relpath(file, history.root))
        groups: dict[tuple, list[tuple[Path, str, str]]] = {}
        for file, (kind, version, rel) in files.items():
            if kind in _PREFIX:
                groups.setdefault((kind, flyway_version_key(version)), []).append((file, version, rel))
        for (kind, key), members in groups.items():
            if len(members) < 2:
                continue
            # Under --since the finding lands on the files the change adds: the others were there.
            members.sort(key=lambda m: (changed is not None and m[0] in changed, len(m[1]), m[2]))
            first_file, first_version, first_rel = members[0]
            shown = ".".join(str(n) for n in key)
            for file, version, rel in members[1:]:
                same = "" if version == first_version else f" (Flyway reads {version} and {first_version} as {shown})"
                out.append(Found(
                    DUPLICATE_VERSION, file, 1,
                    f"Flyway refuses to migrate: {Path(rel).name} and {Path(first_rel).name} are both version "
                    f"{shown}{same}; it stops with \"Found more than one migration with version {shown}\" "
                    f"before running any migration",
                    f"give {Path(rel).name} the next free version: rename it to "
                    f"{_renamed(Path(rel).name, version, next_free(files, kind))}",
                    display=display_path(item.display_root, rel), involves=(first_file,)))
    return out


def next_free(files: dict, kind: str) -> str:
    """One more than the highest version of the series, in the same spelling (`1.10` → `1.11`)."""
    versions = [(flyway_version_key(v), v) for k, v, _ in files.values() if k == kind]
    _, highest = max(versions)
    return bump(highest)


def bump(version: str) -> str:
    """The version with its last number one higher, its width kept (`000123` → `000124`)."""
    match = list(re.finditer(r"\d+", version))[-1]
    number = str(int(match.group()) + 1).rjust(len(match.group()), "0")
    return version[:match.start()] + number + version[match.end():]


def _renamed(name: str, version: str, new: str) -> str:
    return name[:1] + new + name[1 + len(version):]


def out_of_order_setting(root: Path, top: Path) -> tuple[bool, str] | None:
    """(outOfOrder, where it is set) from the Flyway configuration nearest the history, or None."""
    for folder in [root, *root.parents]:
        for name in ("flyway.toml", "flyway.conf", os.path.join("conf", "flyway.conf")):
            path = folder / name
            if path.is_file():
                value = _read_setting(path)
                if value is not None:
                    return value, os.path.relpath(path)
        if folder == top:
            break
    return None


def _read_setting(path: Path) -> bool | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        tables = [data.get("flyway", {})] + [e.get("flyway", {}) for e in data.get("environments", {}).values()
                                              if isinstance(e, dict)]
        values = [t.get("outOfOrder") for t in tables if isinstance(t, dict) and isinstance(t.get("outOfOrder"), bool)]
        return any(values) if values else None
    for raw in text.splitlines():  # Java properties
        line = raw.strip()
        if line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip() == "flyway.outOfOrder":
            return value.strip().lower() == "true"
    return None
