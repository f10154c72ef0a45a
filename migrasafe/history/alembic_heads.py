"""Alembic: more than one head in a branch, and a new revision that forks the base branch's history.

`alembic upgrade head` stops with "Multiple head revisions are present for given argument 'head';
please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or
'heads' for all heads" (alembic `RevisionMap`, `MultipleHeads`). Heads with different branch
labels are separate branches on purpose; heads that share one (or both have none) are not. The
heads are Alembic's own, from the graph sources/alembic loaded (worker.py sends them). The base
branch's revisions are read from its files without running them: the literal `revision`,
`down_revision` and `branch_labels` assignments, as Alembic's templates write them.
"""
from __future__ import annotations

from pathlib import Path

from ..model import Migration
from ..sources.alembic.ids import literal_ids
from .base_tree import BaseTrees
from .found import Found
from .ids import FORKED_REVISION, MULTIPLE_HEADS

_REFUSAL = ("`alembic upgrade head` stops with \"Multiple head revisions are present for given argument "
            "'head'\"")


def projects(migrations: list[Migration]) -> dict[str, list[Migration]]:
    out: dict[str, list[Migration]] = {}
    for migration in migrations:
        if migration.format == "alembic":
            out.setdefault(migration.meta.get("history", ""), []).append(migration)
    return out


def multiple_heads(migrations: list[Migration], changed: frozenset[Path] | None) -> list[Found]:
    out: list[Found] = []
    for revisions in projects(migrations).values():
        heads = revisions[0].meta.get("heads") or []
        for group in _conflicting(heads):
            ordered = sorted(group, key=lambda h: (changed is not None and Path(h["file"]) in changed, h["file"]))
            on = ordered[-1]
            labels = sorted(set(on["branch_labels"]))
            where = f"branch {', '.join(labels)}" if labels else "the history"
            named = " and ".join(f"{h['revision']} ({Path(h['file']).name})" for h in group)
            ids = " ".join(h["revision"] for h in group)
            file = Path(on["file"])
            out.append(Found(
                MULTIPLE_HEADS, file, assignment_line(file, "revision"),
                f"{where} has {len(group)} heads, {named}, and neither descends from the other: {_REFUSAL}",
                f"merge them: alembic merge -m \"merge heads\" {ids}",
                involves=tuple(Path(h["file"]) for h in group)))
    return out


def _conflicting(heads: list[dict]) -> list[list[dict]]:
    """Groups of two or more heads that one `upgrade <branch>@head` cannot tell apart."""
    groups: list[list[dict]] = []
    for head in heads:
        labels = set(head["branch_labels"])
        joined = [g for g in groups if any(set(h["branch_labels"]) & labels or not (labels or h["branch_labels"])
                                           for h in g)]
        merged = [head] + [h for g in joined for h in g]
        groups = [g for g in groups if g not in joined] + [merged]
    return [sorted(g, key=lambda h: h["revision"]) for g in groups if len(g) > 1]


def forks(migrations: list[Migration], trees: BaseTrees, changed: frozenset[Path],
          already: set[Path]) -> list[Found]:
    """New revisions whose down_revision is a base-branch revision that is not a head there."""
    out: list[Found] = []
    for revisions in projects(migrations).values():
        folders = sorted({Path(m.meta["file"]).parent for m in revisions if m.meta.get("file")})
        if not folders:
            continue
        tree = trees.of(folders[0])
        paths = [tree.top / name for folder in folders for name in tree.names(folder) if name.endswith(".py")]
        base = {}
        for text in tree.contents(paths).values():
            ids = revision_ids(text.decode("utf-8", "replace"))
            if isinstance(ids.get("revision", (None,))[0], str):
                base[ids["revision"][0]] = _as_list(ids.get("down_revision", (None,))[0])
        if not base:
            continue
        heads = sorted(set(base) - {d for downs in base.values() for d in downs})
        for migration in revisions:
            file = Path(migration.meta.get("file") or "")
            revision = migration.meta.get("revision")
            if revision in base or file not in changed or file in already:
                continue
            ids = revision_ids(_text(file))
            if ids.get("branch_labels", (None,))[0]:
                continue  # a new branch, labelled on purpose
            downs = migration.meta.get("down_revisions") or []
            forked = [d for d in downs if d in base and d not in heads]
            if not downs or forked:
                line = ids.get("down_revision", (None, 1))[1]
                shown = ", ".join(heads)
                follows = (f"builds on {', '.join(forked)}, which already has a successor on {trees.label}"
                           if forked else "starts a new base (down_revision = None)")
                out.append(Found(
                    FORKED_REVISION, file, line,
                    f"revision {revision} {follows}: {trees.label}'s head is {shown}, so once both are merged the "
                    f"history has two heads and {_REFUSAL}",
                    f"set down_revision = \"{heads[-1]}\" in {file.name} (build on {trees.label}'s head), or add a "
                    f"merge revision after merging: alembic merge -m \"merge heads\" {revision} {' '.join(heads)}"))
    return out


def revision_ids(text: str) -> dict[str, tuple[object, int]]:
    """The literal assignments Alembic reads, with their lines ({} when the file does not parse)."""
    return literal_ids(text) or {}


def assignment_line(file: Path, name: str) -> int:
    return revision_ids(_text(file)).get(name, (None, 1))[1]


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)]
