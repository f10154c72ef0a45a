"""`--since REF`: report only the migrations added or changed since a git ref.

Every migration is still read and analysed, because the earlier ones build the schema the
changed ones run against; the unchanged ones become context migrations, which are left out of
the output and the verdict.

"Changed" means different from the merge base of REF and HEAD — what a pull request shows —
in the working tree, so uncommitted edits and new untracked files count too.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .model import Report

AUTO = "auto"


class ChangedFilesError(Exception):
    """git could not say what changed; the message says why and what to do."""


def mark_unchanged(report: Report, changed: set[Path] | frozenset[Path]) -> None:
    """Turn every migration whose file is not among the `changed` ones into a context migration."""
    for result in report.results:
        migration = result.migration
        files = {migration.meta.get("file")}
        # An Alembic revision is analysed through its rendering; the file the user edits counts.
        files.update(s.origin_path for s in migration.statements if s.origin_path)
        files.discard(None)
        files.discard("")
        if not any(resolved(f) in changed for f in files):
            migration.meta["context"] = True


def changed_files(ref: str, start: Path) -> set[Path]:
    """Resolved paths of the files added or modified since `ref` (merge base with HEAD)."""
    folder = start if start.is_dir() else start.parent
    folder = folder.resolve()
    if ref == AUTO:
        ref = detect_base()
    top = Path(git(folder, "rev-parse", "--show-toplevel",
                   failure=f"--since: {folder} is not inside a git repository").strip())
    git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
        failure=f"--since {ref}: no such commit in this repository{fetch_hint()}")
    base = merge_base(top, ref)
    out = git(top, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base, "--")
    out += git(top, "ls-files", "-z", "--others", "--exclude-standard")
    return {(top / name).resolve() for name in out.split("\0") if name}


def merge_base(top: Path, ref: str) -> str:
    try:
        return git(top, "merge-base", ref, "HEAD").strip()
    except ChangedFilesError:
        # A shallow clone may lack the common ancestor; comparing with the ref itself also
        # counts files the base branch changed since, which is the safe side for a gate.
        print(
            f"migrasafe: --since {ref}: no common ancestor with HEAD (shallow clone?); "
            f"comparing with {ref} itself",
            file=sys.stderr,
        )
        return ref


def detect_base() -> str:
    """The base of the pull or merge request this CI job runs for."""
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if event_path and os.path.isfile(event_path):
        try:
            with open(event_path, encoding="utf-8") as handle:
                event = json.load(handle)
        except (OSError, ValueError):
            event = {}
        sha = ((event.get("pull_request") or {}).get("base") or {}).get("sha")
        if sha:
            return sha
    if os.environ.get("GITHUB_BASE_REF"):
        return f"origin/{os.environ['GITHUB_BASE_REF']}"
    if os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        return os.environ["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    raise ChangedFilesError(
        "--since auto: not running for a GitHub pull request or GitLab merge request; "
        "name the base, e.g. --since origin/main"
    )


def fetch_hint() -> str:
    if os.environ.get("GITHUB_ACTIONS"):
        return " (check out with `fetch-depth: 0`, or fetch the base branch, so git has it)"
    return " (fetch it first, e.g. git fetch origin main)"


def git(folder: Path, *args: str, failure: str | None = None) -> str:
    import subprocess  # only a run that asks git: it is slow to import

    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, encoding="utf-8",
            errors="surrogateescape",
        )
    except FileNotFoundError:
        raise ChangedFilesError("--since needs git, which is not installed") from None
    if done.returncode != 0:
        if failure:
            raise ChangedFilesError(failure)
        message = done.stderr.strip().splitlines()
        detail = message[-1] if message else f"exit {done.returncode}"
        raise ChangedFilesError(f"--since: git {args[0]} failed in {folder}: {detail}")
    return done.stdout


def resolved(file: str) -> Path:
    return Path(file).resolve()
