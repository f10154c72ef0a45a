"""Which directory an Atlas history reads, in which format: from `atlas.hcl` in the history root,
from an `atlas.hcl` above a folder holding `atlas.sum` whose `dir` names that folder, or, with no
project file, from the names `atlas.sum` lists (the directory format's file names)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..entries import Problem
from ..reading import UnreadableFile, read_text
from .hcl import MigrationSettings, lint_analyzers, migration_settings

FORMATS = ("atlas", "golang-migrate", "goose", "flyway", "dbmate", "liquibase")
# How far above a folder holding atlas.sum its project file may be (`atlas.hcl` at a repository's
# root naming `file://tools/migrate/migrations`).
_LEVELS_UP = 8


@dataclass
class Project:
    dir: Path | None
    format: str = "atlas"
    source: str = "atlas.sum"  # where the format was read, for reasons shown to users
    config: Path | None = None
    line: int = 1
    baseline: str | None = None
    tx_mode: str | None = None
    lint: frozenset[str] = frozenset()  # analyzers atlas.hcl's lint block configures
    companions: set[Path] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def find_project(root: Path) -> Project:
    config = root / "atlas.hcl"
    if config.is_file():
        project = _from_config(root, config, root)
        if project is not None:
            return project
    if (root / "atlas.sum").is_file():
        for parent in list(root.parents)[:_LEVELS_UP]:
            candidate = parent / "atlas.hcl"
            if candidate.is_file():
                project = _from_config(root, candidate, parent, only=root)
                if project is not None:
                    return project
        return _from_sum(root)
    return Project(dir=None)


def _from_config(root: Path, config: Path, base: Path, only: Path | None = None) -> Project | None:
    try:
        text = read_text(config)
    except UnreadableFile:
        return None
    settings = [s for s in migration_settings(text) if s.dir and s.dir.startswith("file://")]
    chosen: MigrationSettings | None = None
    for setting in settings:
        folder = (base / setting.dir[len("file://"):].split("?", 1)[0]).resolve()
        if only is None or folder == only:
            chosen = setting
            break
    if chosen is None:
        return None
    path, _, query = chosen.dir[len("file://"):].partition("?")
    folder = (base / path).resolve()
    fmt = chosen.format or _query_format(query) or "atlas"
    source = f"atlas.hcl (env \"{chosen.env}\")" if chosen.env else "atlas.hcl"
    project = Project(dir=folder, format=fmt, source=source, config=config,
                      line=_line_of(text, "format") if chosen.format else 1,
                      baseline=chosen.baseline, tx_mode=chosen.tx_mode, companions={config, folder / "atlas.sum"},
                      lint=frozenset(lint_analyzers(text)))
    rel = str(config.relative_to(root)) if config.is_relative_to(root) else str(config)
    if fmt not in FORMATS:
        project.problems.append(Problem(rel, project.line, f"Atlas refuses format = {fmt!r} (known: {', '.join(FORMATS)})"))
        project.dir = None
    elif not folder.is_dir():
        project.problems.append(Problem(rel, _line_of(text, "dir"), f"the migration dir {chosen.dir} does not exist"))
        project.dir = None
    if chosen.tx_mode not in (None, "file", "none", "all"):
        project.problems.append(Problem(rel, _line_of(text, "tx"), f"Atlas refuses tx-mode {chosen.tx_mode!r} "
                                                                    "(file, none or all)"))
    return project


def _query_format(query: str) -> str | None:
    match = re.search(r"(?:^|&)format=([a-z\-]+)", query)
    return match.group(1) if match else None


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key):
            return number
    return 1


def _from_sum(root: Path) -> Project:
    """No project file: `atlas migrate apply --dir file://...` reads Atlas's own format, unless the
    names atlas.sum lists are another tool's (then it was written with --dir-format for that tool)."""
    names = []
    try:
        lines = read_text(root / "atlas.sum").splitlines()
    except UnreadableFile:
        lines = []
    for line in lines[1:]:
        name = line.rsplit(" ", 1)[0].strip()
        if name:
            names.append(name)
    fmt = "atlas"
    if names and all(re.match(r"^\d+_.*\.up\.sql$", n) for n in names):
        fmt = "golang-migrate"
    elif names and all(re.match(r"^[VRUB]\d*.*__.*\.sql$|^R__", n) for n in names):
        fmt = "flyway"
    source = "atlas.sum" if fmt == "atlas" else f"the names atlas.sum lists ({fmt} format)"
    return Project(dir=root, format=fmt, source=source, companions={root / "atlas.sum"})
