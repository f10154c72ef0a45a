"""The builder one statement's lock impact is collected in, and the lock modes by name."""
from __future__ import annotations

from sys import intern

from pglast import ast

from ..catalog.state import Catalog
from ..model import Impact, IndexLock, Lock
from .modes import level

ACCESS_SHARE = "AccessShareLock"
ROW_SHARE = "RowShareLock"
ROW_EXCLUSIVE = "RowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"
SHARE = "ShareLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
EXCLUSIVE = "ExclusiveLock"
ACCESS_EXCLUSIVE = "AccessExclusiveLock"


class _Builder:
    def __init__(self, catalog: Catalog, pg_version: int):
        self.catalog, self.pg_version = catalog, pg_version
        self.modes: dict[str, str] = {}
        self.index_modes: dict[str, str] = {}
        self.impact = Impact()

    def lock(self, relation: str, mode: str) -> None:
        current = self.modes.get(relation)
        if current is None or level(mode) > level(current):
            self.modes[relation] = mode

    def lock_index(self, index: str, mode: str) -> None:
        current = self.index_modes.get(index)
        if current is None or level(mode) > level(current):
            self.index_modes[index] = mode

    def lock_family(self, relation: str, mode: str) -> None:
        for rel in self.catalog.family(relation):
            self.lock(rel, mode)

    def lock_inheritors(self, relation: str, mode: str) -> None:
        for rel in self.catalog.inheritors(relation):
            self.lock(rel, mode)

    def finish(self) -> Impact:
        # Interned: every statement's records name the same few relations; one copy of each,
        # and one Lock (frozen) for each relation and mode.
        self.impact.locks = [_LOCKS.get((rel, mode)) or _lock(rel, mode) for rel, mode in self.modes.items()]
        if self.index_modes:
            indexes = self.catalog.indexes
            self.impact.index_locks = [IndexLock(name, indexes[name].table if name in indexes else "", mode)
                                       for name, mode in sorted(self.index_modes.items())]
        # A partitioned table has no storage of its own (its partitions are what is rewritten),
        # and a sequence's new file is no table rewrite.
        if self.impact.rewrites:
            self.impact.rewrites = sorted(intern(r) for r in set(self.impact.rewrites) if self._has_table_storage(r))
        if self.impact.scans:
            self.impact.scans = sorted(intern(r) for r in set(self.impact.scans))
        return self.impact

    def _has_table_storage(self, name: str) -> bool:
        rel = self.catalog.get(name)
        return rel is None or rel.kind not in ("partitioned", "sequence", "view")


_LOCKS: dict[tuple[str, str], Lock] = {}


def _lock(relation: str, mode: str) -> Lock:
    lock = _LOCKS[(relation, mode)] = Lock(intern(relation), mode)
    return lock


def _rv(b: _Builder, rv: ast.RangeVar) -> str:
    return b.catalog.qualify(rv.schemaname, rv.relname)
