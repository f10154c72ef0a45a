"""Atlas versioned migrations: a directory integrity-checked by `atlas.sum`, configured by
`atlas.hcl`.

Semantics, from Atlas's documentation (https://atlasgo.io/versioned/apply,
https://atlasgo.io/atlas-schema/projects, https://atlasgo.io/versioned/diff#migration-directory-format)
and source (ariga/atlas sql/migrate/dir.go, cmd/atlas/internal/cmdapi/migrate.go):
- The directory is `migration { dir = "file://..." }` of an `env` block in `atlas.hcl` (relative to
  the project file), or the folder holding `atlas.sum`.
- `format` (atlas, golang-migrate, goose, flyway, dbmate, liquibase) says how files are named. In
  Atlas's own format every `<version>_<name>.sql` is a migration, applied in file name order; a file
  whose header says `-- atlas:checkpoint` replaces, on an empty database, every file before it;
  `baseline = "<version>"` marks the files up to it as already applied. The other formats are
  written for their own tool ("keep using golang-migrate to apply them"), so their files are listed,
  prepared and wrapped by that tool's reader, with the inner format named in `meta` and the reason.
- `atlas migrate apply --tx-mode file` (the default) runs each file in its own transaction;
  `none` runs statements one by one, `all` runs every pending file in one transaction. A file
  opts out with `-- atlas:txmode none` in its header (Atlas refuses a file directive under a
  global `--tx-mode all`). `-- atlas:delimiter X` in the header splits statements on X.
- `atlas.sum` is a companion: its hashes are not checked here.
- `-- atlas:nolint [checks]` suppresses migrasafe findings that mean the same (see nolint.py).
"""
from __future__ import annotations

from pathlib import Path

from ...config import Config
from ...model import Finding, Statement
from .. import findings
from ..entries import Entry, History, Problem
from ..formats import Prepared, SourceFormat
from ..listing import files_in, relative, sniff
from ..reading import UnreadableFile, read_text
from ..transactions import Choice, Marker, Runner, choose
from .directives import all_directives, delimiter_of, header_directives, with_semicolons
from .project import Project, find_project

NAME = "atlas"

RUNNER = Runner(
    wraps=True,
    wrapped="Atlas runs each migration file in its own transaction (atlas migrate apply --tx-mode file, the default)",
    unwrapped="Atlas runs the file's statements one by one without a transaction",
    whole_file_query=False,
)


def list_history(root: Path) -> History:
    history = History(root=root, format=NAME)
    project = find_project(root)
    history.companions |= project.companions
    history.problems.extend(project.problems)
    if project.dir is None:
        return history
    if project.format == NAME:
        _list_atlas_dir(history, project)
    else:
        _list_foreign_dir(history, project)
    for entry in history.forward + history.reverse:  # a backward part is read by the same tool
        entry.options["atlas_format"] = project.format
        entry.options["atlas_source"] = project.source
        entry.options["atlas_lint"] = sorted(project.lint)
        if project.tx_mode:
            entry.options["atlas_tx_mode"] = project.tx_mode
            if project.tx_mode == "all":
                entry.options["transaction_scope"] = "run"
                entry.options["run_reason"] = (f"tx-mode all in {project.source}: Atlas applies every pending "
                                               "file in one transaction")
    return history


def _list_atlas_dir(history: History, project: Project) -> None:
    files = files_in(project.dir)
    entries = []
    for file in files:
        # Every .sql file is a forward migration in Atlas's format (it computes reverts itself).
        stem = file.name[: -len(".sql")]
        version, _, name = stem.partition("_")
        entries.append(Entry(file=file, rel=relative(history.root, file), version=version, description=name))
    entries.sort(key=lambda e: e.file.name)
    checkpoints = [i for i, e in enumerate(entries) if _is_checkpoint(e.file)]
    if checkpoints:
        last = checkpoints[-1]
        for e in entries[:last]:
            history.skipped[e.file] = (f"before the checkpoint {entries[last].file.name}, which Atlas applies "
                                       "instead on an empty database")
        entries = entries[last:]
    if project.baseline:
        kept = []
        for e in entries:
            if e.version <= project.baseline:
                history.skipped[e.file] = f"at or below baseline = \"{project.baseline}\" in {project.source}: already applied"
            else:
                kept.append(e)
        entries = kept
    seen: dict[str, str] = {}
    for e in entries:
        if e.version in seen:
            history.problems.append(Problem(e.rel, 1, f"version {e.version} is also used by {seen[e.version]}: Atlas "
                                                      "records applied files by version (atlas_schema_revisions), so "
                                                      "it cannot apply both", "give each migration its own version"))
        seen.setdefault(e.version, e.rel)
    history.forward = entries


def _is_checkpoint(file: Path) -> bool:
    return any(d.name == "checkpoint" for d in header_directives(sniff(file, 4096)))


def _list_foreign_dir(history: History, project: Project) -> None:
    from ..registry import FORMATS

    inner = FORMATS.get(project.format)
    if inner is None:
        history.problems.append(Problem(
            relative(history.root, project.config) if project.config else ".", project.line,
            f"{project.source} sets format = {project.format}, a directory layout migrasafe does not read",
            "check the directory with --source-format naming its layout, if migrasafe reads it"))
        return
    listed = inner.list_history(project.dir)
    history.skipped.update(listed.skipped)
    history.companions |= listed.companions
    for problem in listed.problems:
        problem.rel = relative(history.root, project.dir / problem.rel)
        history.problems.append(problem)
    for entry in listed.forward + listed.reverse:
        entry.rel = relative(history.root, entry.file)
        for problem in entry.problems:
            problem.rel = relative(history.root, project.dir / problem.rel)
    history.forward, history.reverse = listed.forward, listed.reverse


def inner_format(entry: Entry) -> SourceFormat | None:
    """The reader of the tool a foreign-format directory is written for; None in Atlas's own format."""
    from ..registry import FORMATS

    name = entry.options.get("atlas_format", NAME)
    return None if name == NAME else FORMATS.get(name)


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    inner = inner_format(entry)
    if inner is not None:
        return inner.prepare(entry, text, config, display)
    header = header_directives(text)
    notes: list[Finding] = []
    marker = None
    broken = False
    for directive in header:
        if directive.name == "txmode":
            mode = directive.args.strip()
            if mode not in ("none", "file"):
                notes.append(findings.input_error(
                    display, f"Atlas refuses `-- atlas:txmode {mode}`: a file's mode is none or file",
                    directive.line, fix="write `-- atlas:txmode none` or `-- atlas:txmode file`"))
                broken = True
            elif entry.options.get("atlas_tx_mode") == "all":
                notes.append(findings.input_error(
                    display, f"Atlas refuses `-- atlas:txmode {mode}` in a file when tx-mode is all "
                             f"({entry.options.get('atlas_source', 'atlas.hcl')})", directive.line,
                    fix="remove the directive, or apply with --tx-mode file"))
                broken = True
            else:
                marker = Marker(mode == "file", f"-- atlas:txmode {mode} (line {directive.line}): " + (
                    RUNNER.wrapped.replace(" (atlas migrate apply --tx-mode file, the default)", "")
                    if mode == "file" else RUNNER.unwrapped))
    if marker is None and not broken and entry.options.get("atlas_tx_mode") is None:
        stray = next((d for d in all_directives(text, "txmode") if d.line not in {h.line for h in header}), None)
        if stray is not None:
            # A common slip: without the empty line after it, Atlas takes it for a statement's comment.
            marker = Marker(True, f"{RUNNER.wrapped}: the `-- atlas:txmode {stray.args}` at line {stray.line} is "
                                  "not in the file header (its comment lines must be followed by an empty line), "
                                  "so Atlas does not read it")
    delimiter = next((d for d in header if d.name == "delimiter"), None)
    if delimiter is not None and delimiter.args:
        last_header_line = max(d.line for d in header)
        text = with_semicolons(text, delimiter_of(delimiter.args), last_header_line)
    return Prepared(text, marker=marker, findings=notes, broken=broken)


def transaction(
    fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement], config: Config, display: str,
) -> tuple[Choice, list[Finding]]:
    inner = inner_format(entry)
    source = entry.options.get("atlas_source", "atlas.hcl")
    if inner is not None and NAME not in config.transaction:
        choice, notes = inner.transaction(inner, entry, prepared, statements, config, display)
        reason = (f"{source} sets format = {inner.name}, so {inner.name} applies this directory: {choice.reason}")
        return Choice(choice.in_transaction, reason, choice.implicit), notes
    marker = prepared.marker
    mode = entry.options.get("atlas_tx_mode")
    if marker is None and mode == "none":
        marker = Marker(False, f"tx-mode none in {source}: {RUNNER.unwrapped}")
    elif marker is None and mode == "all":
        marker = Marker(True, f"tx-mode all in {source}: Atlas applies every pending file in one transaction")
    return choose(NAME, RUNNER, marker, statements, config.transaction), []


def detect(folder: Path) -> bool:
    if (folder / "atlas.sum").is_file():
        return True
    config = folder / "atlas.hcl"
    if not config.is_file():
        return False
    project = find_project(folder)
    if project.problems:  # a project file naming a directory Atlas would refuse: its problems are reported
        return True
    if project.dir is None:
        return False
    # A directory below, with its atlas.sum, is found by discovery itself (and finds this project file
    # again): the folder is not claimed, so that other histories beside the directory are found too.
    below = project.dir != folder and project.dir.is_relative_to(folder) and (project.dir / "atlas.sum").is_file()
    return not below


FORMAT = SourceFormat(
    name=NAME, list_history=list_history, prepare=prepare, transaction=transaction, detect=detect,
    looks_like="Atlas (atlas.sum, or atlas.hcl naming a migration dir)",
    # A directory in another tool's format is run by that tool: its reader's advice is used.
    outside_transaction=("move it to its own file whose header is '-- atlas:txmode none' (followed by an empty "
                         "line), applied with tx-mode file or none; then run `atlas migrate hash`, since "
                         "atlas.sum lists every file and Atlas refuses a directory that does not match it"),
    runner=RUNNER,
)


def layout_format(file: Path) -> str:
    """The file naming and transaction rules of the directory holding `file`: Atlas's own, or the
    tool's whose format atlas.hcl names."""
    return find_project(file.parent).format
