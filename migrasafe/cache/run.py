"""One `check` run with the cache: which migrations load their result, which are analysed, and
from which catalog."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from ..catalog import Catalog
from ..config import Config
from ..model import Migration, MigrationResult
from .codec import NotStorable, decode, decode_result, encode, encode_result
from .store import Store, cache_dir

# A catalog snapshot every this many migrations bounds the work after an edit in mid-history.
SNAPSHOT_EVERY = 64
# A result is stored as one JSON document, which costs several times the migration's text while
# it is encoded: the result of a migration with more SQL than this is not stored (it is analysed
# afresh every run), so a huge file's check stays within a few times its size.
MAX_STORED_SQL = 1024 * 1024
_PACKAGE = Path(__file__).resolve().parent.parent


def open_cache(config: Config) -> "CachedRun | None":
    if not config.cache or os.environ.get("MIGRASAFE_NO_CACHE"):
        return None
    return CachedRun(Store(cache_dir()), run_fingerprint(config))


def code_fingerprint() -> str:
    """migrasafe's own code and rule docs, by name, size and modification time: an upgrade, or an
    edit of a checkout, makes every older entry foreign."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(_PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".yaml")):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def run_fingerprint(config: Config) -> str:
    """Everything about the run, besides the migrations themselves, that decides a result."""
    from ..report import tool_version

    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("changed", "since", "root", "source", "cache", "jobs")}
    digest = hashlib.sha256()
    digest.update(tool_version().encode())
    digest.update(code_fingerprint().encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for dump in config.schema:  # --schema files seed every history's catalog
        try:
            digest.update(Path(dump).read_bytes())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


@dataclasses.dataclass
class _History:
    keys: list[str] = dataclasses.field(default_factory=list)
    placeholders: list[Migration] = dataclasses.field(default_factory=list)
    analysed_to: int = -1  # index of the last migration the live catalog has absorbed


class CachedRun:
    def __init__(self, store: Store, fingerprint: str):
        self.store = store
        self.fingerprint = fingerprint
        self.histories: dict[str, _History] = {}
        self.hits = self.misses = 0
        self.not_stored: set[str] = set()  # keys of results too large to store

    def key(self, migration: Migration) -> str | None:
        """The migration's chained key, or None when it is not cacheable (it was read eagerly)."""
        source = migration.meta.get("source_key")
        if source is None:
            return None
        history = self.histories.setdefault(migration.meta.get("history", ""), _History())
        previous = history.keys[-1] if history.keys else self.fingerprint
        context = "context" if migration.meta.get("context") else "reported"
        key = hashlib.sha256(f"{previous}\n{source}\n{context}".encode()).hexdigest()
        history.keys.append(key)
        history.placeholders.append(migration)
        return key

    def result(self, key: str) -> MigrationResult | None:
        data = self.store.get("result", key)
        if data is None:
            return None
        try:
            result = decode_result(data["result"])
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a crash or a lie
            return None
        if not isinstance(result, MigrationResult):
            return None
        self.hits += 1
        return result

    def catalog_before(self, migration: Migration, catalog: Catalog, analyse) -> Catalog:
        """The catalog as the migration's predecessor left it. The live catalog is behind when
        earlier results were loaded: load the nearest snapshot, then analyse what follows it
        (`analyse(placeholder, catalog)`; those results equal the stored ones and are dropped)."""
        history = self.histories[migration.meta.get("history", "")]
        index = len(history.keys) - 1
        if history.analysed_to == index - 1:
            return catalog
        start = history.analysed_to
        for j in range(index - 1, history.analysed_to, -1):
            snapshot = self._catalog(history.keys[j])
            if snapshot is not None:
                catalog, start = snapshot, j
                break
        for j in range(start + 1, index):
            analyse(history.placeholders[j], catalog)
        history.analysed_to = index - 1
        return catalog

    def analysed(self, migration: Migration, key: str, result: MigrationResult, catalog: Catalog) -> None:
        """Store a fresh result (and, now and then, the catalog after it)."""
        self.misses += 1
        history = self.histories[migration.meta.get("history", "")]
        history.analysed_to = len(history.keys) - 1
        if result.migration.broken:
            return  # an input error is reported afresh every run
        if _sql_length(result) > MAX_STORED_SQL:
            self.not_stored.add(key)
            return
        try:
            self.store.put("result", key, {"result": encode_result(result)})
        except NotStorable:
            return
        if len(history.keys) % SNAPSHOT_EVERY == 0:
            self._save_catalog(key, catalog)

    def finish(self, catalogs: dict[str, Catalog]) -> None:
        """The catalog after each history's last migration, for the next run that adds one."""
        for name, history in self.histories.items():
            if history.keys and history.analysed_to == len(history.keys) - 1 and name in catalogs:
                self._save_catalog(history.keys[-1], catalogs[name])
        self.store.evict()

    def _save_catalog(self, key: str, catalog: Catalog) -> None:
        # After a result that was not stored, a run re-analyses that migration anyway: the
        # catalog after it would never be read.
        if key in self.not_stored or self.store.get("catalog", key) is not None:
            return
        try:
            self.store.put("catalog", key, {"catalog": encode(catalog)})
        except NotStorable:
            pass  # e.g. rewrite rules keep syntax trees: the next run re-analyses instead

    def _catalog(self, key: str) -> Catalog | None:
        data = self.store.get("catalog", key)
        if data is None:
            return None
        try:
            catalog = decode(data["catalog"])
        except Exception:  # noqa: BLE001
            return None
        return catalog if isinstance(catalog, Catalog) else None


def _sql_length(result: MigrationResult) -> int:
    packed = getattr(result.statements, "sql_length", None)  # a large migration's, read from its columns
    return packed() if packed is not None else sum(len(a.statement.sql) for a in result.statements)
