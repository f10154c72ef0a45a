"""The base branch's tree, read with git without checking anything out: which files it holds below
a folder and what they say.

`--since REF` compares with the ref's own tree, not with the merge base the changed files are
taken from: a migration the base branch gained after the branch point is exactly what a new one
can collide with once both are merged.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..changed import AUTO, ChangedFilesError, detect_base, git


class BaseTree:
    def __init__(self, top: Path, ref: str, label: str):
        self.top = top
        self.ref = ref
        self.label = label  # the ref as the user gave it, for messages
        self._names: dict[Path, frozenset[str]] = {}

    def rel(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.top).as_posix()
        except ValueError:
            return None

    def names(self, folder: Path) -> frozenset[str]:
        """Paths (relative to the repository) of every file the base tree holds below `folder`."""
        folder = folder.resolve()
        if folder not in self._names:
            rel = self.rel(folder)
            if rel is None:
                self._names[folder] = frozenset()
            else:
                out = git(self.top, "ls-tree", "-r", "-z", "--name-only", self.ref, "--", rel if rel != "." else ".")
                self._names[folder] = frozenset(name for name in out.split("\0") if name)
        return self._names[folder]

    def holds(self, path: Path, root: Path) -> bool:
        """Whether the base tree holds `path`, a file below `root` (listed once per root)."""
        rel = self.rel(path)
        return rel is not None and rel in self.names(root)

    def contents(self, paths: list[Path]) -> dict[Path, bytes]:
        """The base branch's bytes of each path it holds (one `git cat-file --batch` for all)."""
        wanted = [(p, self.rel(p)) for p in paths]
        wanted = [(p, rel) for p, rel in wanted if rel is not None]
        if not wanted:
            return {}
        request = "".join(f"{self.ref}:{rel}\n" for _, rel in wanted).encode("utf-8", "surrogateescape")
        import subprocess  # only with --since: it is slow to import

        try:
            done = subprocess.run(["git", "cat-file", "--batch"], cwd=self.top, input=request, capture_output=True)
        except FileNotFoundError:
            raise ChangedFilesError("--since needs git, which is not installed") from None
        if done.returncode != 0:
            raise ChangedFilesError(f"--since: git cat-file failed in {self.top}: "
                                    f"{done.stderr.decode(errors='replace').strip()}")
        out, found, at = done.stdout, {}, 0
        for path, _ in wanted:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            at = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                found[path] = out[at:at + size]
                at += size + 1
        return found


@lru_cache(maxsize=8)
def _toplevel(folder: Path) -> Path:
    return Path(git(folder, "rev-parse", "--show-toplevel",
                    failure=f"--since: {folder} is not inside a git repository").strip()).resolve()


class BaseTrees:
    """One `BaseTree` per repository the histories live in."""

    def __init__(self, ref: str):
        self.label = ref
        self.ref = detect_base() if ref == AUTO else ref
        self._trees: dict[Path, BaseTree] = {}

    def of(self, folder: Path) -> BaseTree:
        top = _toplevel(folder.resolve())
        if top not in self._trees:
            git(top, "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}",
                failure=f"--since {self.label}: no such commit in this repository")
            self._trees[top] = BaseTree(top, self.ref, self.label)
        return self._trees[top]
