"""Renderings kept between runs, so that an unchanged project starts neither Django nor PostgreSQL.

    cache = RenderCache.for_project(per_file_keys, context, project_root, identity)
    run = cache.load()          # None unless every migration's rendering is there
    cache.store(graph, renderings)
    saved, why = cache.saved_state()   # the database of the last complete rendering, or why not

Each migration's rendering is stored under a key made of its own file and of every migration it
depends on (its ancestors in the dependency graph read by files.py), with Django's version and
the settings: what Django sends for a migration depends on nothing else. The plan (order,
skipped files, external apps) is stored under the key of all the files together. Entries are
plain JSON files under $MIGRASAFE_CACHE_DIR (or ~/.cache/migrasafe) in django/, written to a
temporary file and renamed into place; an entry that does not read as JSON is ignored.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from .files import MigrationFile

FORMAT_VERSION = "2"  # bump when what is stored (or how it is rendered) changes
_OUTSIDE = "outside the project"  # a migration of an installed app: keyed by Django's version alone


def cache_root() -> Path:
    configured = os.environ.get("MIGRASAFE_CACHE_DIR")
    base = Path(configured).expanduser() if configured else Path.home() / ".cache" / "migrasafe"
    return base / "django"


def _django_version() -> str:
    try:
        return metadata.version("Django")
    except metadata.PackageNotFoundError:
        return "none"


def _digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def file_keys(files: dict[str, MigrationFile], texts: dict[str, str], setting_apps: dict[str, str],
              context: str) -> dict[str, str]:
    """Each migration file's key: its text and its ancestors' texts, with the run's context."""
    by_key = {(f.app, f.name): path for path, f in files.items()}
    by_app: dict[str, list[str]] = {}
    for path, facts in sorted(files.items()):
        by_app.setdefault(facts.app, []).append(path)
    squashed = {tuple(r): path for path, f in files.items() for r in f.replaces}
    own = {path: _digest(text) for path, text in texts.items()}
    ancestors: dict[str, frozenset[str]] = {}
    before_them: dict[tuple[str, str], set[str]] = {}
    for path, facts in files.items():
        for key in facts.run_before:
            before_them.setdefault(tuple(key), set()).add(path)

    def parents(path: str) -> set[str]:
        facts = files[path]
        found: set[str] = set()
        for app, name in facts.dependencies + [tuple(r) for r in facts.replaces]:
            if app == "__setting__":
                app, name = setting_apps.get(name, ""), "__latest__"
            if name in ("__first__", "__latest__") or (app, name) not in by_key and (app, name) not in squashed:
                found.update(p for p in by_app.get(app, []) if p != path)
            else:
                found.add(by_key.get((app, name)) or squashed[(app, name)])
        found |= before_them.get((facts.app, facts.name), set())  # run_before names the later one
        found.discard(path)
        return found

    direct = {path: parents(path) for path in files}

    def closure(path: str) -> frozenset[str]:
        if path in ancestors:
            return ancestors[path]
        seen: set[str] = set()
        stack = list(direct[path])
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in ancestors:  # already known: take its ancestors whole
                seen |= ancestors[current]
            else:
                stack.extend(direct[current])
        ancestors[path] = frozenset(seen - {path})
        return ancestors[path]

    base = _digest(FORMAT_VERSION, _django_version(), context)
    return {path: _digest(base, own[path], *sorted(own[p] for p in closure(path))) for path in files}


_HERE = "@project/"  # stands for the project root in stored paths: a moved checkout keeps its cache


class RenderCache:
    def __init__(self, plan_key: str, keys: dict[str, str], project_root: Path, root: Path | None = None,
                 identity: str = "", context: str = ""):
        self.plan_key, self.keys = plan_key, keys
        self.project_root = str(project_root).rstrip(os.sep) + os.sep
        self.root = root or cache_root()
        # The saved database is kept per project (its apps), whatever the context it was made in,
        # so that a run whose context changed can say so instead of finding nothing.
        self.identity, self.context = identity, context

    @classmethod
    def for_project(cls, keys: dict[str, str], context: str, project_root: Path, identity: str) -> "RenderCache":
        plan_key = _digest(FORMAT_VERSION, _django_version(), context, *sorted(keys.values()))
        return cls(plan_key, keys, project_root, identity=identity, context=context)

    def load(self) -> dict | None:
        """{"graph": ..., "renderings": {file: ...}} when everything is cached, else None."""
        graph = self._read("plan", self.plan_key)
        if graph is None:
            return None
        renderings = {}
        for entry in graph["plan"]:
            file = entry["file"]
            if file not in self.keys:
                continue  # a migration outside the project (Django's contrib apps): part of the plan entry
            rendering = self._read("migration", self.keys[file])
            if rendering is None or rendering.get("file") != file:
                return None
            renderings[file] = rendering
        renderings.update(graph.get("outside", {}))
        return {"graph": graph, "renderings": renderings}

    def store(self, graph: dict, renderings: dict[str, dict]) -> None:
        outside = {f: r for f, r in renderings.items() if f not in self.keys}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for file, rendering in renderings.items():
                if file in self.keys:
                    self._write("migration", self.keys[file], rendering)
            self._write("plan", self.plan_key, dict(graph, outside=outside))
        except OSError:
            pass  # a cache that cannot be written only costs the next run its speed

    # The database after the last complete rendering, so that a run adding migrations applies
    # only those: a pg_dump of it, and the migrations it holds with their keys, in plan order.

    def snapshot_path(self) -> Path:
        return self.root / f"snapshot-{_digest(self.identity)}.dump"

    def save_state(self, plan: list[dict]) -> None:
        done = [[e["file"], self.keys.get(e["file"], _OUTSIDE)] for e in plan]
        try:
            self._write("state", _digest(self.identity), {
                "done": done, "plan_key": self.plan_key, "context": self.context, "django": _django_version(),
                "format": FORMAT_VERSION})
        except OSError:
            pass

    def saved_state(self) -> tuple[tuple[Path, list[str], dict[str, dict]] | None, str | None]:
        """The saved database and the renderings of the migrations in it, when every one of them
        is unchanged (added migrations are what the next rendering applies on top); else None and
        why it cannot be used (None too when nothing was ever saved)."""
        state = self._read("state", _digest(self.identity))
        dump = self.snapshot_path()
        if state is None:
            return None, None
        if state.get("format") != FORMAT_VERSION:
            return None, "it was saved by another version of migrasafe"
        if state.get("django") != _django_version():
            return None, f"it was made with Django {state.get('django')}, this run has {_django_version()}"
        if state.get("context") != self.context:
            return None, "the settings, or the apps outside the project the migrations depend on, changed"
        if not dump.is_file():
            return None, f"its dump {dump} is missing"
        renderings: dict[str, dict] = {}
        old_plan = self._read("plan", state.get("plan_key", ""))
        outside = (old_plan or {}).get("outside", {})
        for file, key in state.get("done", []):
            if key == _OUTSIDE:
                if file in self.keys or file not in outside:
                    return None, f"the rendering of {self._shown(file)}, which it holds, is not in the cache"
                renderings[file] = outside[file]
                continue
            if file not in self.keys:
                return None, f"{self._shown(file)}, which it holds, is no longer there"
            if self.keys[file] != key:
                # Changed, or an ancestor changed: the saved database is not a state Django would reach.
                return None, f"{self._shown(file)}, which it holds, changed or depends on a migration that changed"
            rendering = self._read("migration", key)
            if rendering is None:
                return None, f"the rendering of {self._shown(file)}, which it holds, is not in the cache"
            renderings[file] = rendering
        return (dump, [file for file, _ in state["done"]], renderings), None

    def _shown(self, file: str) -> str:
        return file[len(self.project_root):] if file.startswith(self.project_root) else file

    def _stored(self, data):
        """Paths inside the project are stored relative to it."""
        if isinstance(data, str):
            return _HERE + data[len(self.project_root):] if data.startswith(self.project_root) else data
        if isinstance(data, dict):
            return {self._stored(k): self._stored(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self._stored(v) for v in data]
        return data

    def _loaded(self, data):
        if isinstance(data, str):
            return self.project_root + data[len(_HERE):] if data.startswith(_HERE) else data
        if isinstance(data, dict):
            return {self._loaded(k): self._loaded(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self._loaded(v) for v in data]
        return data

    def _path(self, kind: str, key: str) -> Path:
        return self.root / f"{kind}-{key}.json"

    def _read(self, kind: str, key: str) -> dict | None:
        try:
            with open(self._path(kind, key), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return self._loaded(data) if isinstance(data, dict) else None

    def _write(self, kind: str, key: str, data: dict) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._stored(data), handle)
            os.replace(temporary, self._path(kind, key))
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
