"""A migration the change adds that runs before one the base branch already has.

Order is the tool's own: each history's forward list is in the order its tool runs it on an empty
database (sources/), so a new file listed before a file the base branch holds sorts below it. What
that does on a database that has the base branch's migrations is tools.py's data.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..sources import Listed
from ..sources.versions import same_version
from .base_tree import BaseTrees
from .flyway_versions import bump, is_flyway, out_of_order_setting
from .found import Found
from .ids import OUT_OF_ORDER
from .tools import OUT_OF_ORDER as BEHAVIOUR


def out_of_order(listed: list[Listed], trees: BaseTrees, changed: frozenset[Path]) -> list[Found]:
    out: list[Found] = []
    for item in listed:
        history = item.history
        fmt = "flyway" if is_flyway(item) else history.format
        behaviour = BEHAVIOUR.get(fmt)
        entries = [e for e in history.forward if e.kind == "versioned"]
        if behaviour is None or not entries:
            continue
        tree = trees.of(history.root)
        on_base = [tree.holds(e.file, history.root) for e in entries]
        if not any(on_base):
            continue  # a history the base branch does not have yet
        last = max(i for i, held in enumerate(on_base) if held)
        latest = entries[last]
        for i, entry in enumerate(entries[:last]):
            if on_base[i] or entry.file not in changed:
                continue
            if any(on_base[j] and same_version(history.format, e.version, entry.version)
                   for j, e in enumerate(entries)):
                continue  # a renamed migration of a version the base branch has: not a new one
            severity, does, allow = behaviour.severity, behaviour.does, behaviour.allow
            if fmt == "flyway":
                setting = out_of_order_setting(history.root, tree.top)
                if setting is not None and setting[0]:
                    severity = "info"
                    does = (f"outOfOrder=true ({setting[1]}) makes Flyway run it after {{latest}} on databases that "
                            f"have {{latest}}, and before it on new ones")
                    allow = ""
            names = {"latest": latest.rel, "latest_version": latest.version,
                     "version": entry.version.replace("_", ".") if fmt == "flyway" else entry.version}
            # Renumbered past every migration of the history, the change's own new ones included.
            down = entry.file.name.endswith(".up.sql") and entry.file.with_name(
                entry.file.name[:-len(".up.sql")] + ".down.sql").is_file()
            fix = _renumber(fmt, entry.rel, entry.version, latest.rel, entries[-1].version, down)
            if allow:
                fix += f" ({allow.format(**names)})"
            out.append(Found(
                OUT_OF_ORDER, entry.file, 1,
                f"{entry.rel} is new, but {latest.rel}, already on {trees.label}, runs after it: "
                + does.format(**names), fix, severity=severity, display=os.path.join(item.display_root, entry.rel)))
    return out


def _renumber(fmt: str, rel: str, version: str, latest: str, latest_version: str, down_exists: bool) -> str:
    if fmt == "drizzle":
        return (f"move its journal entry after {latest}'s, with a \"when\" later than that one's (or delete the file "
                f"and its entry and run `drizzle-kit generate` again)")
    renamed = _renamed(rel, version, bump(latest_version))
    if renamed is None:
        return f"renumber it after {latest}"
    also = " and its .down.sql" if down_exists else ""
    return f"renumber it after {latest}: rename {rel}{also} to {renamed}"


def _renamed(rel: str, version: str, new: str) -> str | None:
    """`rel` with the path part that carries the version renamed (a Prisma or diesel folder, a file)."""
    parts = Path(rel).parts
    for index in range(len(parts) - 1, -1, -1):
        match = re.search(re.escape(version), parts[index])
        if match and match.start() <= 1:  # at the start, or after a one-letter prefix (Flyway's V)
            part = parts[index][:match.start()] + new + parts[index][match.end():]
            return str(Path(*parts[:index], part, *parts[index + 1:]))
    return None
