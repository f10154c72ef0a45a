"""A migration the base branch already has, edited by the change: databases that ran the old text
either refuse to go on (the tool checksums what it ran) or never run the new one.

Flyway repeatable scripts (`R__`) and Liquibase changesets marked runOnChange or runAlways are
meant to be edited: they run again when they change, and are left alone. Undo and down files
never run forward. What each tool does is tools.py's data.
"""
from __future__ import annotations

from pathlib import Path

from ..model import MigrationResult
from .base_tree import BaseTrees
from .equivalence import first_changed_line, only_comments_or_whitespace, same_for_checksum
from .found import Found
from .ids import EDITED
from .tools import REHASHED_ATLAS, new_migration, shipped

_RERUN = ("runonchange", "runalways")


def edited(results: list[MigrationResult], trees: BaseTrees, changed: frozenset[Path]) -> list[Found]:
    by_file: dict[Path, list[MigrationResult]] = {}
    for result in results:
        migration = result.migration
        file = Path(migration.meta.get("file") or "")
        if migration.meta.get("context") or file not in changed or migration.kind not in ("versioned", "baseline"):
            continue
        by_file.setdefault(file, []).append(result)
    if not by_file:
        return []
    out: list[Found] = []
    after = _next_flyway(results)
    for tree_files in _by_tree(trees, list(by_file)).values():
        tree, files = tree_files
        base = tree.contents(files)
        for file in files:
            if file not in base:
                continue  # new on this branch
            try:
                new_bytes = file.read_bytes()
            except OSError:
                continue  # reading the migration reports it
            if new_bytes == base[file]:
                continue
            old, new = base[file].decode("utf-8", "replace"), new_bytes.decode("utf-8", "replace")
            out += _judge(by_file[file], file, old, new, trees.label, after)
    return out


def _by_tree(trees: BaseTrees, files: list[Path]) -> dict:
    grouped: dict = {}
    for file in files:
        tree = trees.of(file.parent)
        grouped.setdefault(tree.top, (tree, []))[1].append(file)
    return grouped


def _judge(results: list[MigrationResult], file: Path, old: str, new: str, label: str,
           after: dict[str, str]) -> list[Found]:
    migration = results[0].migration
    fmt = migration.meta.get("runs_as") or migration.format
    if fmt == "liquibase":
        return _judge_changesets(results, file, old, new, label)
    name = migration.meta.get("app", "") if fmt == "django" else migration.version
    version = migration.version.replace("_", ".") if fmt == "flyway" else migration.version
    return _one(fmt, file, old, new, label, version, name, start=0, key=None,
                after=after.get(migration.meta.get("history", ""), ""))


def _one(fmt: str, file: Path, old: str, new: str, label: str, version: str, name: str, start: int,
         key: str | None, after: str = "") -> list[Found]:
    behaviour = shipped(fmt)
    if fmt == "atlas" and _rehashed(file):
        behaviour = REHASHED_ATLAS
    if behaviour.checksum and same_for_checksum(old, new, behaviour.ignores):
        return []  # the tool's checksum does not see this edit, and nothing that runs changed
    cosmetic = only_comments_or_whitespace(old, new, python=file.suffix == ".py")
    tool = "Flyway" if fmt == "flyway" else fmt
    does = behaviour.does.format(version=version, tool=tool)
    line = first_changed_line(old, new, start)
    subject = f"changeset {version} of {file.name}" if fmt == "liquibase" and key else file.name
    where = f"{subject} is already on {label} and was edited since"
    remedy = f"revert the edit and put the change in {after or new_migration(fmt, name)}"
    if cosmetic and not behaviour.checksum:
        return [Found(EDITED, file, line, f"{where}, in comments or whitespace only: nothing that runs changed, "
                                          f"so no database misses anything ({tool} never runs it again where it ran)",
                      "nothing to do for the databases; revert it to keep the file as it shipped", severity="info",
                      key=key)]
    if cosmetic:
        where += ", in comments or whitespace only, which the tool's checksum still covers"
        if fmt == "flyway":
            remedy += "; to keep a comment edit, run `flyway repair` on every database that applied it"
        elif fmt == "liquibase":
            remedy += "; to keep a comment edit, add `--validCheckSum: <the new checksum>` to the changeset"
    return [Found(EDITED, file, line, f"{where}: {does}", remedy, severity=behaviour.severity, key=key)]


def _next_flyway(results: list[MigrationResult]) -> dict[str, str]:
    """Per Flyway history, the name of a new migration: one version above the highest."""
    from ..sources.versions import flyway_version_key
    from .flyway_versions import bump

    highest: dict[str, tuple] = {}
    for result in results:
        migration = result.migration
        key = flyway_version_key(migration.version) if migration.kind == "versioned" else None
        history = migration.meta.get("history", "")
        if (migration.meta.get("runs_as") or migration.format) == "flyway" and key is not None:
            highest[history] = max(highest.get(history, (key, migration.version)), (key, migration.version))
    return {h: f"a new migration, V{bump(v)}__<name>.sql" for h, (_, v) in highest.items()}


def _judge_changesets(results: list[MigrationResult], file: Path, old: str, new: str, label: str) -> list[Found]:
    from ..sources.liquibase.formatted import is_formatted, lines_of, read_formatted

    if not (is_formatted(old) and is_formatted(new)):
        if is_formatted(old) or is_formatted(new) or file.suffix != ".sql":
            return []  # a changelog of XML, YAML or JSON changesets: not compared here
        return _one("liquibase", file, old, new, label, results[0].migration.version, "", start=0,
                    key=results[0].migration.meta.get("key"))
    before = {c.key: c for c in read_formatted(old).changesets}
    old_lines, new_lines = lines_of(old), lines_of(new)
    out: list[Found] = []
    keys = {r.migration.version: r.migration.meta.get("key") for r in results}
    for changeset in read_formatted(new).changesets:
        earlier = before.get(changeset.key)
        if earlier is None or changeset.key not in keys or any(changeset.flag(f, False) for f in _RERUN):
            continue
        was = "".join(old_lines[earlier.start:earlier.end])
        now = "".join(new_lines[changeset.start:changeset.end])
        if was != now:
            out += _one("liquibase", file, was, now, label, changeset.key, "", start=changeset.start,
                        key=keys[changeset.key])
    return out


def _rehashed(file: Path) -> bool:
    """Whether the directory's atlas.sum was re-hashed with the file as it is now."""
    from ..sources.atlas.sumfile import SUM, listed_names, sum_text

    folder = file.parent
    try:
        current = (folder / SUM).read_text(encoding="utf-8")
        names = listed_names(current)
        contents = {name: (folder / name).read_bytes() for name in names}
    except OSError:
        return False
    if file.name not in names:
        return False
    wanted = next((ln for ln in sum_text(names, contents).splitlines() if ln.startswith(file.name + " ")), None)
    return wanted is not None and wanted in current.splitlines()
