"""Liquibase's master changelog: which files run, in which order.

From Liquibase's documentation ("include", "includeAll", "Root changelog"): a YAML or JSON
changelog is `databaseChangeLog:` followed by a list of `include: {file: ...}`,
`includeAll: {path: ...}` and `changeSet:` items, an XML one has `<include file=.../>`,
`<includeAll path=.../>` and `<changeSet>` elements, a formatted SQL one `--include file:...` and
`--includeAll path:...` lines. They run in the order written; `includeAll` takes the folder's
changelog files (recursively) in alphabetical order of their paths. A path is relative to the
changelog when `relativeToChangelogFile` is true, otherwise to the search path (the classpath
root, which is some folder above the changelog in a Spring or Maven project). Spring Boot's
default master is `db/changelog/db.changelog-master.yaml`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..listing import SKIPPED_FOLDERS
from ..reading import UnreadableFile, read_text
from .formatted import is_formatted, read_formatted

CHANGELOG_SUFFIXES = (".yaml", ".yml", ".xml", ".json", ".sql")
STRUCTURED = (".yaml", ".yml", ".xml", ".json")
# How far above a changelog the search path (classpath root) may be.
SEARCH_LEVELS = 6


@dataclass
class Included:
    file: Path
    via: Path  # the changelog that included it
    line: int
    # For an `sqlFile` change of a changeSet written in YAML/XML/JSON: the changeSet's and the
    # change's attributes (author, id, runInTransaction, splitStatements, endDelimiter, dbms).
    attributes: dict | None = None
    # For a formatted SQL changelog that also includes others: the lines [start, end) holding the
    # run of its own changesets that comes at this point of the order; None for the whole file.
    lines: tuple[int, int] | None = None


@dataclass
class Walk:
    order: list[Included] = field(default_factory=list)  # changelog files holding SQL, in run order
    problems: list[tuple[Path, int, str]] = field(default_factory=list)
    # Changelogs whose changeSets hold changes other than sqlFile (createTable, sql, ...), which
    # are not read: file → how many.
    structured_changesets: dict[Path, int] = field(default_factory=dict)
    changelogs: set[Path] = field(default_factory=set)  # every changelog file read


def is_structured_changelog(path: Path, text: str | None = None) -> bool:
    if path.suffix.lower() not in STRUCTURED:
        return False
    if text is None:
        from ..listing import sniff

        text = sniff(path, 8192)  # the root element or key comes first, after a header and comments
    return "databaseChangeLog" in text


def walk(master: Path) -> Walk:
    """Every file the master changelog runs, depth first in the order written."""
    out = Walk()
    _visit(master, master, 1, out, set())
    return out


def _visit(file: Path, via: Path, line: int, out: Walk, stack: set[Path]) -> None:
    if file in stack:
        out.problems.append((via, line, f"Liquibase stops: {file.name} includes itself (an include cycle)"))
        return
    try:
        text = read_text(file)
    except UnreadableFile as err:
        out.problems.append((file, err.line, f"Liquibase cannot read this changelog: {err.message}"))
        return
    suffix = file.suffix.lower()
    if suffix == ".sql":
        parsed = read_formatted(text) if is_formatted(text) else None
        items = [(kind, target, attrs, number) for number, kind, target, attrs in (parsed.includes if parsed else [])]
        if parsed is None or not items:
            out.order.append(Included(file, via, line))
        elif parsed.changesets:
            items = _in_file_order(parsed, items)
    else:
        items, changesets, problem = _structured_items(file, text)
        if problem:
            out.problems.append((file, 1, problem))
            return
        if changesets:
            out.structured_changesets[file] = changesets
    out.changelogs.add(file)
    stack = stack | {file}
    for kind, target, attrs, number in items:
        if kind == "own":
            out.order.append(Included(file, via, line, lines=attrs["lines"]))
            continue
        relative = str(attrs.get("relativetochangelogfile", "false")).lower() == "true"
        found = _resolve(target, file, relative)
        if found is None:
            out.problems.append((file, number, f"Liquibase stops: {kind} {target} does not exist"))
            continue
        if kind == "include":
            _visit(found, file, number, out, stack)
            continue
        if kind == "sqlFile":
            out.order.append(Included(found, file, number, attrs))
            continue
        if not found.is_dir():
            out.problems.append((file, number, f"Liquibase stops: includeAll path {target} is not a folder"))
            continue
        for child in _changelog_files(found):
            _visit(child, file, number, out, stack)


def _in_file_order(parsed, includes: list) -> list:
    """A formatted SQL changelog's own changesets and its include lines, in the order written.

    Liquibase's formatted SQL parser reads the file line by line and adds each changeset to the
    changelog at its `--changeset` line (AbstractFormattedChangeLogParser.parse:
    `changeLog.addChangeSet(changeSet)`); an `--include`/`--includeAll` line (a Liquibase Pro
    command, InvalidFormattedSqlPatternsForOssUtil) ends the changeset before it and adds the
    included changelogs where it stands (the parser's `changeSetFinished` hook). So changesets
    above an include run before the included files, and those below it after them. Each run of
    own changesets becomes an ("own", None, {"lines": (start, end)}, line) item."""
    items = []
    at = 0  # the first line not yet given to a run of own changesets
    for include in includes:
        start = include[3] - 1  # the include's 0-based line
        if any(at <= c.start < start for c in parsed.changesets):
            items.append(("own", None, {"lines": (at, start)}, start))
        items.append(include)
        at = start + 1
    if any(c.start >= at for c in parsed.changesets):
        items.append(("own", None, {"lines": (at, 1 << 62)}, at))
    return items


def _structured_items(file: Path, text: str):
    """(include items, number of changeSets written in the file, problem) of a YAML/XML/JSON changelog."""
    suffix = file.suffix.lower()
    if suffix == ".xml":
        return _xml_items(text)
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as err:  # noqa: BLE001 - any parse failure is the user's input error
        return [], 0, f"Liquibase cannot parse this changelog: {str(err).splitlines()[0]}"
    entries = data.get("databaseChangeLog") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return [], 0, "not a Liquibase changelog: no databaseChangeLog list"
    items, changesets = [], 0
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for kind in ("include", "includeAll"):
            body = entry.get(kind)
            if isinstance(body, dict):
                target = body.get("file" if kind == "include" else "path")
                if target:
                    attrs = {str(k).lower(): v for k, v in body.items()}
                    items.append((kind, str(target), attrs, _line_of(text, str(target))))
        body = entry.get("changeSet")
        if isinstance(body, dict):
            sql_files, others = _changeset_changes(body, text)
            items += sql_files
            changesets += others
    return items, changesets, None


def _changeset_changes(body: dict, text: str):
    """The sqlFile changes of one YAML/JSON changeSet as include items, and how many other changes."""
    outer = {str(k).lower(): _text(v) for k, v in body.items() if not isinstance(v, (list, dict))}
    items, others = [], 0
    for change in body.get("changes") or []:
        sql_file = change.get("sqlFile") if isinstance(change, dict) else None
        if isinstance(sql_file, dict) and sql_file.get("path"):
            attrs = {**outer, **{str(k).lower(): _text(v) for k, v in sql_file.items()}}
            if "dbms" in outer and "dbms" in sql_file:
                attrs["dbms"] = outer["dbms"]  # the changeSet's own limit applies first
            items.append(("sqlFile", str(sql_file["path"]), attrs, _line_of(text, str(sql_file["path"]))))
        else:
            others += 1
    return items, others


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _xml_items(text: str):
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        return [], 0, f"Liquibase cannot parse this changelog: {err}"
    items, changesets = [], 0
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        attrs = {k.lower(): v for k, v in element.attrib.items()}
        if tag == "include" and attrs.get("file"):
            items.append(("include", attrs["file"], attrs, _line_of(text, attrs["file"])))
        elif tag == "includeAll" and attrs.get("path"):
            items.append(("includeAll", attrs["path"], attrs, _line_of(text, attrs["path"])))
        elif tag == "changeSet":
            for change in element:
                name = change.tag.rsplit("}", 1)[-1]
                inner = {k.lower(): v for k, v in change.attrib.items()}
                if name == "sqlFile" and inner.get("path"):
                    merged = {**attrs, **inner}
                    if "dbms" in attrs:
                        merged["dbms"] = attrs["dbms"]
                    items.append(("sqlFile", inner["path"], merged, _line_of(text, inner["path"])))
                elif name not in ("comment", "preConditions", "rollback", "validCheckSum"):
                    changesets += 1
    return items, changesets, None


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _resolve(target: str, changelog: Path, relative: bool) -> Path | None:
    target = target.removeprefix("classpath:").removeprefix("classpath*:")
    if target.startswith("/"):
        candidates = [Path(target)] + _above(changelog.parent, target.lstrip("/"))
    elif relative:
        candidates = [changelog.parent / target]
    else:
        candidates = _above(changelog.parent, target)
    for candidate in candidates:
        if candidate.exists():
            return Path(os.path.normpath(candidate))
    # The search path root is out of reach (a copy of the changelog's folder alone): a path naming
    # the changelog's own folder continues from it.
    parts = Path(target.lstrip("/")).parts
    folder = changelog.parent
    for index, part in enumerate(parts[:-1]):
        if part == folder.name and (folder.joinpath(*parts[index + 1:])).exists():
            return Path(os.path.normpath(folder.joinpath(*parts[index + 1:])))
    return None


def _above(folder: Path, target: str) -> list[Path]:
    """`target` under the changelog's folder and each folder above it, as the search path may be."""
    out, current = [], folder
    for _ in range(SEARCH_LEVELS + 1):
        out.append(current / target)
        if current.parent == current:
            break
        current = current.parent
    return out


def _changelog_files(folder: Path) -> list[Path]:
    found = []
    for base, subfolders, names in os.walk(folder):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS]
        found += [Path(base) / n for n in names if n.lower().endswith(CHANGELOG_SUFFIXES)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())
