"""Judge the shares of a run in forked processes and put their results back in order."""
from __future__ import annotations

import json
import os
import sys
import threading
from typing import Callable

from ..catalog import Catalog
from ..model import Migration, MigrationResult
from ..sources.lazy import realize
from .catch_up import catch_up
from .shares import share_starts

Judge = Callable[[Migration, Catalog], MigrationResult]
CatalogOf = Callable[[str], Catalog]


def judge_in_shares(migrations: list[Migration], catalog_of: CatalogOf, judge: Judge,
                    processes: int) -> list[MigrationResult] | None:
    """Every migration's result, in order, judged by up to `processes` processes; None when the
    run is better done by one (too small, no fork here, or migrations that share a session,
    whose transaction state flows from one to the next, or other threads in this process)."""
    if processes < 2 or not hasattr(os, "fork") or any(m.meta.get("session") for m in migrations):
        return None
    if threading.active_count() > 1:
        return None  # a fork copies only this thread: a lock another one holds would never be released
    starts = share_starts([_weight(m) for m in migrations], processes)
    if len(starts) < 2:
        return None
    bounds = list(zip(starts, starts[1:] + [len(migrations)]))
    sys.stdout.flush()
    sys.stderr.flush()
    children = []
    try:
        for low, high in bounds[1:]:
            children.append(Child.start(migrations, low, high, catalog_of, judge))
        return _collect(migrations, bounds, children, catalog_of, judge)
    finally:
        for child in children:
            child.close()


def _collect(migrations, bounds, children, catalog_of: CatalogOf, judge: Judge) -> list[MigrationResult]:
    results: list[MigrationResult] = []
    low, high = bounds[0]
    for migration in migrations[low:high]:
        results.append(judge(migration, catalog_of(_history(migration))))
    absorbed = high  # the parent's catalogs are as the migrations before this index left them
    for (low, high), child in zip(bounds[1:], children):
        # A child caught up over the migrations before its share; that is exact only when judging
        # none of them stopped on an internal error.
        sent = child.results() if not any(_stopped(r) for r in results) else []
        results.extend(sent[:high - low])
        if len(results) < high:
            for j in range(absorbed, len(results)):
                migration = migrations[j]
                if _stopped(results[j]):
                    judge(migration, catalog_of(_history(migration)))  # what it left, exactly
                else:
                    catch_up(realize(migration), catalog_of(_history(migration)))
            for migration in migrations[len(results):high]:
                results.append(judge(migration, catalog_of(_history(migration))))
            absorbed = high
    return results


def _weight(migration: Migration) -> int:
    return len(migration.statements) + 1


def _history(migration: Migration) -> str:
    return migration.meta.get("history", "")


def _stopped(result: MigrationResult) -> bool:
    return any(f.rule == "MS088" for f in result.all_findings())


class Child:
    """A forked process judging one share; its results come back on a pipe as plain data."""

    def __init__(self, pid: int, reading: int):
        self.pid, self.reading = pid, reading

    @classmethod
    def start(cls, migrations, low: int, high: int, catalog_of: CatalogOf, judge: Judge) -> "Child":
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(reading)
            code = 1
            try:
                _judge_share(writing, migrations, low, high, catalog_of, judge)
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        os.close(writing)
        return cls(pid, reading)

    def results(self) -> list[MigrationResult]:
        """What the child sent, decoded; fewer than its share (none) when it stopped early or
        failed: the parent judges the rest."""
        from ..cache.codec import decode_result

        chunks = []
        with os.fdopen(self.reading, "rb", closefd=True) as pipe:
            self.reading = None
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        code = self._wait()
        if code != 0:
            return []
        try:
            return [decode_result(data) for data in json.loads(b"".join(chunks))]
        except Exception:  # noqa: BLE001 - anything odd is judged again, never trusted
            return []

    def _wait(self) -> int | None:
        if self.pid is None:
            return None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        if self.reading is not None:
            os.close(self.reading)
            self.reading = None
        if self.pid is not None:
            try:
                os.kill(self.pid, 9)
            except OSError:
                pass
            self._wait()


def _judge_share(writing: int, migrations, low: int, high: int, catalog_of: CatalogOf, judge: Judge) -> None:
    from ..cache.codec import NotStorable, encode_result

    for migration in migrations[:low]:
        catch_up(realize(migration), catalog_of(_history(migration)))
    encoded = []
    for migration in migrations[low:high]:
        result = judge(migration, catalog_of(_history(migration)))
        try:
            encoded.append(encode_result(result))
        except NotStorable:
            break  # the parent judges this one and the rest
        if _stopped(result):
            break  # the catalog after it is not what catching up would give: the parent goes on
    data = json.dumps(encoded, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with os.fdopen(writing, "wb") as pipe:
        pipe.write(data)
