"""Judge the shares of a run in forked processes and put their results back in order.

A position is (migration index, statement index). A share starts at a migration, or inside one
whose statements run one by one (analyse.splittable) at the first statement from its planned
start on that runs outside a transaction; the share before it pauses there too.
"""
from __future__ import annotations

import os
import pickle
import sys
import threading
from dataclasses import dataclass, fields
from typing import Callable

from ..analyse import splittable
from ..catalog import Catalog
from ..model import AnalysedStatement, Migration, MigrationResult
from ..sources.lazy import realize
from ..transaction import TxState
from .catch_up import catch_up, catch_up_part
from .shares import share_starts

Judge = Callable[..., MigrationResult]
CatalogOf = Callable[[str], Catalog]
Position = tuple[int, int]


def judge_in_shares(migrations: list[Migration], catalog_of: CatalogOf, judge: Judge, finish,
                    processes: int) -> list[MigrationResult] | None:
    """Every migration's result, in order, judged by up to `processes` processes; None when the
    run is better done by one (too small, no fork here, migrations that share a session, whose
    transaction state flows from one to the next, or other threads in this process)."""
    if processes < 2 or not hasattr(os, "fork") or any(m.meta.get("session") for m in migrations):
        return None
    if threading.active_count() > 1:
        return None  # a fork copies only this thread: a lock another one holds would never be released
    starts = planned_starts(migrations, processes)
    if len(starts) < 2:
        return None
    ends = starts[1:] + [(len(migrations), 0)]
    sys.stdout.flush()
    sys.stderr.flush()
    children = []
    try:
        for start, end in zip(starts[1:], ends[1:]):
            children.append(Child.start(Walk(migrations, catalog_of, judge), start, end))
        parts = _collect(Walk(migrations, catalog_of, judge), ends, children)
    finally:
        for child in children:
            child.close()
    return _put_together(migrations, parts, finish)


def planned_starts(migrations: list[Migration], processes: int) -> list[Position]:
    units, weights = places(migrations)
    return [units[i] for i in share_starts(weights, processes)]


def places(migrations: list[Migration]) -> tuple[list[Position], list[int]]:
    """Where a share may start, and the weight of what follows up to the next such place."""
    units, weights = [], []
    for index, migration in enumerate(migrations):
        count = len(migration.statements)
        if count > 1 and splittable(migration):
            units += [(index, s) for s in range(count)]
            weights += [2] + [1] * (count - 1)
        else:
            units.append((index, 0))
            weights.append(count + 1)
    return units, weights


@dataclass
class Part:
    """A migration's result (`finished`), or the result of its statements from `start` on."""
    migration: int
    start: int
    result: MigrationResult
    finished: bool


def _collect(walk: "Walk", ends: list[Position], children: list["Child"]) -> list[Part]:
    parts = walk.judge_to(ends[0])
    frontier = walk.at  # the results reach this far; the parent's catalogs may lag behind
    trusted = not any(_stopped(p) for p in parts)
    for end, child in zip(ends[1:], children):
        # A child caught up over everything before its share: exact only when judging none of
        # it stopped on an internal error, and only if it started where the share before ended.
        sent = child.results() if trusted else None
        if sent is not None and sent[0] == frontier and sent[1] and not any(_stopped(p) for p in sent[1]):
            parts += sent[1]
            last = sent[1][-1]
            paused = last.result.paused_at
            frontier = (last.migration, paused) if paused is not None else (last.migration + 1, 0)
            continue
        walk.catch_up_to(frontier)
        own = walk.judge_to(end)
        parts += own
        frontier = walk.at
        trusted = trusted and not any(_stopped(p) for p in own)
    return parts


def _put_together(migrations: list[Migration], parts: list[Part], finish) -> list[MigrationResult]:
    results: list[MigrationResult] = []
    at = 0
    while at < len(parts):
        first = parts[at]
        group = [first]
        at += 1
        while at < len(parts) and parts[at].migration == first.migration:
            group.append(parts[at])
            at += 1
        if len(group) == 1 and first.finished:
            results.append(first.result)
            continue
        migration = realize(migrations[first.migration])
        whole = MigrationResult(migration=migration, findings=list(first.result.findings))
        for part in group:
            whole.statements.extend(part.result.statements)
            migration.broken = migration.broken or part.result.migration.broken
        results.append(finish(whole))
    return results


def _stopped(part: Part) -> bool:
    return any(f.rule == "MS088" for f in part.result.all_findings())


class Walk:
    """One process's way through the run: the catalogs, as the statements before `at` left
    them, and the transaction state there when `at` is inside a migration."""

    def __init__(self, migrations: list[Migration], catalog_of: CatalogOf, judge: Judge):
        self.migrations, self.catalog_of, self.judge = migrations, catalog_of, judge
        self.at: Position = (0, 0)
        self.tx: TxState | None = None

    def _catalog(self, migration: Migration) -> Catalog:
        return self.catalog_of(migration.meta.get("history", ""))

    def catch_up_to(self, target: Position) -> Position:
        """Apply without judging up to `target`; a target inside a migration moves on to the
        first statement there that runs outside a transaction. Where it got to."""
        m, s = self.at
        while (m, s) < target:
            migration = realize(self.migrations[m])
            if m < target[0]:
                if s == 0:
                    catch_up(migration, self._catalog(migration))
                else:
                    catch_up_part(migration, self._catalog(migration), self.tx, s, None)
                m, s = m + 1, 0
                continue
            if s == 0:
                self.tx = TxState()
            s = catch_up_part(migration, self._catalog(migration), self.tx, s, target[1])
            if s >= len(migration.statements):
                m, s = m + 1, 0
            break
        self.at = (m, s)
        return self.at

    def judge_to(self, end: Position) -> list[Part]:
        """Judge from `at` to `end` (inside a migration: up to where it pauses)."""
        parts = []
        m, s = self.at
        while (m, s) < end:
            migration = realize(self.migrations[m])
            catalog = self._catalog(migration)
            if m < end[0] and s == 0:
                parts.append(Part(m, 0, self.judge(migration, catalog), True))
                m += 1
                continue
            tx = self.tx if s else TxState()
            pause = end[1] if m == end[0] else None
            result = self.judge(migration, catalog, tx=tx, resume_at=s, pause_at=pause)
            parts.append(Part(m, s, result, False))
            if result.paused_at is None:
                m, s = m + 1, 0
            else:
                s, self.tx = result.paused_at, tx
                break
        self.at = (m, s)
        return parts


class Child:
    """A forked process judging one share. Its results come back pickled on a pipe: they are
    this run's own objects, from a process this one made, never read from anywhere else."""

    def __init__(self, pid: int, reading: int, migrations: list[Migration]):
        self.pid, self.reading, self.migrations = pid, reading, migrations

    @classmethod
    def start(cls, walk: Walk, start: Position, end: Position) -> "Child":
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(reading)
            code = 1
            try:
                _judge_share(writing, walk, start, end)
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        os.close(writing)
        return cls(pid, reading, walk.migrations)

    def results(self) -> tuple[Position, list[Part]] | None:
        """Where the child started and what it sent; None when it failed: the parent judges its
        share."""
        chunks = []
        with os.fdopen(self.reading, "rb", closefd=True) as pipe:
            self.reading = None
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        if self._wait() != 0:
            return None
        try:
            start, sent = pickle.loads(b"".join(chunks))
            return tuple(start), [_received(self.migrations, item) for item in sent]
        except Exception:  # noqa: BLE001 - anything odd is judged again, never trusted
            return None

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


def _judge_share(writing: int, walk: Walk, start: Position, end: Position) -> None:
    begun = walk.catch_up_to(start)
    sent = [_sendable(part) for part in walk.judge_to(end)]
    data = pickle.dumps((begun, sent), protocol=pickle.HIGHEST_PROTOCOL)
    with os.fdopen(writing, "wb") as pipe:
        pipe.write(data)


# The parent holds the same statements: a part's analysed statements are sent with each one's
# position in its migration rather than a copy of it (half the time a pickle of the whole result
# takes, on a large file). The rest of the migration goes as it is, since judging may have
# changed it (what a directive suppressed, whether it broke).
_ANALYSED = tuple(f.name for f in fields(AnalysedStatement) if f.name != "statement")


def _sendable(part: Part):
    result = part.result
    statements = result.migration.statements
    if isinstance(result.statements, list) and isinstance(statements, list):
        position = {id(stmt): index for index, stmt in enumerate(statements)}
        rows = []
        for analysed in result.statements:
            at = position.get(id(analysed.statement))
            if at is None or statements[at] is not analysed.statement:
                break
            rows.append((at, *(getattr(analysed, name) for name in _ANALYSED)))
        else:
            result.migration = _with_statements(result.migration, [])
            result.statements = rows
            return ("rows", part)
    if not part.finished:
        result.migration = _with_statements(result.migration, [a.statement for a in result.statements])
    return ("whole", part)


def _received(migrations: list[Migration], sent) -> Part:
    how, part = sent
    if how == "rows":
        result = part.result
        own = realize(migrations[part.migration])
        result.migration.statements, result.migration.text = own.statements, own.text
        statements = own.statements
        result.statements = [AnalysedStatement(statements[row[0]], **dict(zip(_ANALYSED, row[1:])))
                             for row in result.statements]
    return part


def _with_statements(migration: Migration, statements) -> Migration:
    import copy

    shallow = copy.copy(migration)
    shallow.statements, shallow.text = statements, ""
    return shallow
