"""sqitch: changes deployed in the order of `sqitch.plan`, each by its `deploy/<change>.sql` script.

Semantics, from sqitch's own documentation and source:
- sqitch-configuration(1) and App::Sqitch::Target: `sqitch.conf` (git-config syntax) sets
  `core.engine`, `top_dir`, `plan_file`, `deploy_dir`, `revert_dir`, `verify_dir` and `extension`,
  in `[core]` or per engine in `[engine "<name>"]` (the engine's setting wins); paths are relative
  to the project folder, the deploy folder defaults to `<top_dir>/deploy`.
- sqitch-plan / App::Sqitch::Plan: `%pragma=value` lines, change lines
  `name [dependencies] <timestamp> planner <email> # note`, tag lines `@tag ...`; a dependency is
  `change`, `change@tag`, `proj:change` (another project) or `!change` (a conflict). A change
  planned before one it requires, or requiring an unknown change, makes sqitch refuse the plan; a
  change name may appear again (a rework) only after a tag.
- App::Sqitch::Plan::Change `path_segments`: the script of an earlier instance of a reworked change
  is `<change>@<tag>.sql`, for the first of the tags after it (the rework's own `change@tag`
  dependency names it) whose file exists; the latest instance keeps `<change>.sql`.
- App::Sqitch::Engine::pg: each script runs as `psql --set ON_ERROR_STOP=1 --file <script>`, so
  sqitch opens no transaction: the script's own BEGIN/COMMIT decide (its templates write them), and
  psql meta-commands are psql's. `revert/` scripts undo a change, `verify/` scripts check it.
https://sqitch.org/docs/manual/sqitch-configuration/ , https://sqitch.org/docs/manual/sqitchchanges/
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .entries import Entry, History, MissingFile, Problem
from .formats import SourceFormat
from .listing import relative, walk_files
from .reading import UnreadableFile, read_text
from .transactions import Runner

PLAN = "sqitch.plan"
CONF = "sqitch.conf"

# Plan syntax (regex on the plan file, not on SQL).
_PRAGMA = re.compile(r"^%\s*([^=\s]+)\s*(?:=\s*(.*?))?\s*$")
_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
_CHANGE = re.compile(
    rf"^(?P<op>[+-])?(?P<name>[^\s\[@#]+)\s*(?:\[(?P<deps>[^\]]*)\])?\s*(?P<stamp>{_TIMESTAMP})\s+"
    r"(?P<planner>[^<]*?)\s*<(?P<email>[^>]*)>\s*(?:#\s?(?P<note>.*))?$")
_TAG = re.compile(rf"^@(?P<name>\S+)\s+(?P<stamp>{_TIMESTAMP})\s+[^<]*<[^>]*>\s*(?:#\s?(?P<note>.*))?$")
_SECTION = re.compile(r'^\[\s*([A-Za-z0-9_.-]+)(?:\s+"([^"]*)")?\s*\]$')


@dataclass
class PlannedChange:
    name: str
    line: int
    note: str
    requires: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    tags_after: list[str] = field(default_factory=list)  # tags up to this change's next rework
    script: str = ""  # file name stem in the deploy folder: `name` or `name@tag`


@dataclass
class Settings:
    engine: str
    plan_file: Path
    deploy_dir: Path
    revert_dir: Path
    verify_dir: Path
    extension: str


def read_conf(path: Path) -> dict[str, dict[str, str]]:
    """git-config sections → keys (lower case) → values; {} when the file is absent or unreadable."""
    sections: dict[str, dict[str, str]] = {}
    try:
        text = read_text(path)
    except UnreadableFile:
        return sections
    current = sections.setdefault("", {})
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = _SECTION.match(line)
        if header:
            name = header.group(1).lower() + (f".{header.group(2)}" if header.group(2) is not None else "")
            current = sections.setdefault(name, {})
            continue
        key, _, value = line.partition("=")
        value = value.split(" #")[0].split(" ;")[0].strip().strip('"')
        current[key.strip().lower()] = value
    return sections


def settings(root: Path) -> Settings:
    conf = read_conf(root / CONF)
    core = conf.get("core", {})
    engine = core.get("engine", "pg")

    def setting(key: str) -> str | None:
        for section in (f"engine.{engine}", f"core.{engine}", "core"):
            if key in conf.get(section, {}):
                return conf[section][key]
        return None

    top = root / (setting("top_dir") or ".")
    return Settings(
        engine=engine,
        plan_file=root / setting("plan_file") if setting("plan_file") else top / PLAN,
        deploy_dir=root / setting("deploy_dir") if setting("deploy_dir") else top / "deploy",
        revert_dir=root / setting("revert_dir") if setting("revert_dir") else top / "revert",
        verify_dir=root / setting("verify_dir") if setting("verify_dir") else top / "verify",
        extension=setting("extension") or "sql",
    )


def parse_plan(text: str, rel: str) -> tuple[str, list[PlannedChange], list[Problem]]:
    """The project name, the changes in plan order (each with the tags after it), and problems."""
    project = ""
    changes: list[PlannedChange] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("%"):
            pragma = _PRAGMA.match(line)
            if pragma and pragma.group(1) == "project":
                project = pragma.group(2) or ""
            continue
        if line.startswith("@"):
            tag = _TAG.match(line)
            if tag is None:
                problems.append(Problem(rel, number, f"sqitch cannot parse this tag line: {line}"))
            elif changes:
                changes[-1].tags_after.append(tag.group("name"))
            else:
                problems.append(Problem(rel, number, f"sqitch refuses the plan: tag @{tag.group('name')} "
                                                     "comes before any change"))
            continue
        match = _CHANGE.match(line)
        if match is None:
            problems.append(Problem(rel, number, f"sqitch cannot parse this plan line: {line}",
                                    "a change line is `name [dependencies] <YYYY-MM-DDTHH:MM:SSZ> planner <email> # note`"))
            continue
        if match.group("op") == "-":
            problems.append(Problem(rel, number, f"a '-' (revert) entry in the plan is not read: {line}"))
            continue
        change = PlannedChange(match.group("name"), number, (match.group("note") or "").strip())
        for dep in (match.group("deps") or "").split():
            (change.conflicts if dep.startswith("!") else change.requires).append(dep.lstrip("!"))
        changes.append(change)
    return project, changes, problems


def resolve(project: str, changes: list[PlannedChange], deploy_dir: Path, extension: str,
            rel: str) -> list[Problem]:
    """Give every change its script name and check what sqitch checks before deploying."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}  # change name → index of its latest instance so far
    for index, change in enumerate(changes):
        if change.name in seen:
            earlier = changes[seen[change.name]]
            tags_between = [t for c in changes[seen[change.name]:index] for t in c.tags_after]
            if not tags_between:
                problems.append(Problem(rel, change.line, f"sqitch refuses the plan: {change.name} is planned "
                                                          f"again (line {earlier.line}) without a tag between"))
            named = [d.split("@", 1)[1] for d in change.requires if d.startswith(change.name + "@")]
            candidates = named + [t for t in tags_between if t not in named]
            earlier.script = next(
                (f"{change.name}@{t}" for t in candidates
                 if (deploy_dir / f"{change.name}@{t}.{extension}").is_file()),
                f"{change.name}@{candidates[0]}" if candidates else change.name)
        for dep in change.requires:
            problem = _unmet(dep, project, change, changes, index, seen)
            if problem:
                problems.append(Problem(rel, change.line, f"sqitch refuses the plan: {problem}"))
        for dep in change.conflicts:
            target = _local(dep, project)
            if target is not None and target.partition("@")[0] in seen:
                problems.append(Problem(rel, change.line, f"sqitch refuses to deploy {change.name}: it conflicts "
                                                          f"with {dep}, deployed earlier in the plan"))
        change.script = change.name
        seen[change.name] = index
    return problems


def _unmet(dep: str, project: str, change: PlannedChange, changes: list[PlannedChange], index: int,
           seen: dict[str, int]) -> str | None:
    """Why sqitch refuses a required dependency of `change`, or None when it is met."""
    target = _local(dep, project)
    if target is None:
        return None  # another project's change: that project's plan says where it is
    name, _, tag = target.partition("@")
    if name and name not in seen:
        if any(c.name == name for c in changes):
            return f"{change.name} is planned before {name}, which it requires"
        return f"{change.name} requires {dep}, which is not in the plan"
    if tag and not any(tag in c.tags_after for c in changes[:index]):
        return f"{change.name} requires {dep}, but no tag @{tag} comes before it"
    return None


def _local(dep: str, project: str) -> str | None:
    """The dependency's change (or change@tag) when it is in this project, else None."""
    if ":" in dep:
        other, _, target = dep.partition(":")
        return target if other == project else None
    return dep


def list_history(root: Path) -> History:
    history = History(root=root, format="sqitch")
    found = settings(root)
    plan_rel = relative(root, found.plan_file)
    history.companions |= {root / CONF, found.plan_file}
    try:
        text = read_text(found.plan_file)
    except UnreadableFile as err:
        history.problems.append(Problem(plan_rel, err.line, f"sqitch cannot read its plan: {err.message}"))
        return history
    ext = found.extension
    project, changes, problems = parse_plan(text, plan_rel)
    problems += resolve(project, changes, found.deploy_dir, ext, plan_rel)
    history.problems.extend(problems)
    if found.engine != "pg":
        for file in walk_files(found.deploy_dir, "." + ext):
            history.skipped[file] = f"sqitch engine {found.engine!r} (sqitch.conf), not PostgreSQL"
        return history
    for change in changes:
        deploy = found.deploy_dir / f"{change.script}.{ext}"
        options = {"plan_line": change.line, "requires": change.requires, "conflicts": change.conflicts}
        if not deploy.is_file():  # sqitch stops there: migrasafe/history reports it on the plan line
            history.missing.append(MissingFile(plan_rel, change.line, change.name, relative(root, deploy)))
            continue
        history.forward.append(Entry(file=deploy, rel=relative(root, deploy), version=change.script,
                                     description=change.note, options=options))
        revert = found.revert_dir / f"{change.script}.{ext}"
        if revert.is_file():
            history.reverse.insert(0, Entry(file=revert, rel=relative(root, revert), version=change.script,
                                            description=change.note, kind="undo"))
        verify = found.verify_dir / f"{change.script}.{ext}"
        if verify.is_file():
            history.companions.add(verify)
    planned = {e.file for e in history.forward} | {e.file for e in history.reverse}
    for folder, what in ((found.deploy_dir, "deploy"), (found.revert_dir, "revert")):
        for file in walk_files(folder, "." + ext):
            if file not in planned:
                history.skipped[file] = f"a {what} script of no change in {plan_rel}: sqitch never runs it"
    return history


def detect(folder: Path) -> bool:
    if (folder / CONF).is_file():
        return settings(folder).plan_file.is_file()
    if not (folder / PLAN).is_file():
        return False
    # A plan in the top_dir of a project whose sqitch.conf is above belongs to that project.
    for ancestor in list(folder.parents)[:_PROJECT_LEVELS]:
        if (ancestor / CONF).is_file() and settings(ancestor).plan_file.resolve() == (folder / PLAN).resolve():
            return False
    return True


def root_of(folder: Path) -> Path | None:
    """The sqitch project whose deploy/revert/verify folders hold `folder` (a script named alone)."""
    for ancestor in [folder, *folder.parents][:_PROJECT_LEVELS]:
        if detect(ancestor):
            found = settings(ancestor)
            dirs = (found.deploy_dir, found.revert_dir, found.verify_dir)
            return ancestor if any(folder.is_relative_to(d.resolve()) for d in dirs) else None
    return None


_PROJECT_LEVELS = 6

FORMAT = SourceFormat(
    name="sqitch", list_history=list_history, detect=detect, preprocess=True, nested=True, root_of=root_of,
    looks_like="sqitch (sqitch.plan beside deploy/<change>.sql)",
    # psql runs the script: without BEGIN/COMMIT each statement commits on its own.
    outside_transaction=("remove BEGIN/COMMIT from this deploy script (psql then runs each statement on its own), "
                         "or move it to a new change whose deploy script has none"),
    separate_transaction="in a separate transaction (COMMIT, then a new BEGIN, in the deploy script, or a new change)",
    runner=Runner(
        wraps=False,
        wrapped="each sqitch script runs in one transaction (configuration)",
        unwrapped="sqitch runs the script with psql: its own BEGIN/COMMIT decide",
        whole_file_query=False,
    ),
)
