"""What each analysed statement keeps for the report, kept small.

A large migration file keeps one AnalysedStatement per statement until the report is written.
Most of what they hold repeats: the same lock on the same table, the same impact, the same live
tables, no findings. `Shared.keep_little` makes each of these one object for the statements of
a migration, and drops the statement's syntax tree (it is parsed again if read later), so that
a statement costs little more than its text and its line numbers.

The shared parts are read-only: their lists refuse changes in place (`+=` gives the statement
a list of its own), and an impact or a live set is never changed after its statement was
analysed.
"""
from __future__ import annotations

from .model import AnalysedStatement, Impact
from .shared import EMPTY_DICT, EMPTY_SET, NONE, SharedList


class Shared:
    """The records equal statements of one migration share."""

    def __init__(self, recent: int = 0):
        # relation (or (relation, mode) when the relation's entry has another mode) -> the
        # impact of a statement that takes only that lock; relation strings are the builder's
        # interned ones, so that a lookup hashes and compares nothing new.
        self._one_lock: dict = {}
        self._lives: dict = {}
        self._notes: dict = {}
        self._nothing = Impact(NONE, NONE, NONE, True, EMPTY_DICT)  # no lock, no rewrite, no scan
        # With `recent`, any other impact equal to one of the last `recent` distinct ones is that
        # one: statements on one table come close together, and a bounded table of them costs
        # the same for any size of migration (a table of every impact would cost about what
        # sharing them saves).
        self._recent_size = recent
        self._recent: dict = {}

    def keep_little(self, analysed: AnalysedStatement) -> None:
        analysed.statement.release()
        impact = analysed.impact
        if (impact.rewrites or impact.scans or impact.notes or not impact.transactional or len(impact.locks) > 1
                or impact.index_locks):
            # Rarer: its empty parts are shared, the rest with a recent equal impact (`recent`).
            impact.locks = SharedList(impact.locks)  # exactly as long as it is
            impact.rewrites = SharedList(impact.rewrites) if impact.rewrites else NONE
            impact.scans = SharedList(impact.scans) if impact.scans else NONE
            impact.notes = self._shared_notes(impact.notes)
            if self._recent_size:
                analysed.impact = self._recently_seen(impact)
        elif impact.locks:
            analysed.impact = self._taking(impact.locks[0])
        else:
            analysed.impact = self._nothing
        live = analysed.live
        if not live:
            analysed.live = EMPTY_SET
        else:
            live = frozenset(live)
            analysed.live = self._lives.setdefault(live, live)
        if not analysed.findings:
            analysed.findings = NONE
        if not analysed.folded:
            analysed.folded = NONE

    def _taking(self, lock) -> Impact:
        one_lock = self._one_lock
        relation = lock.relation
        shared = one_lock.get(relation)
        if shared is not None and shared.locks[0].mode == lock.mode:
            return shared
        key = relation if shared is None else (relation, lock.mode)
        if shared is not None:
            found = one_lock.get(key)
            if found is not None:
                return found
        shared = one_lock[key] = Impact(SharedList((lock,)), NONE, NONE, True, EMPTY_DICT)
        return shared

    def _recently_seen(self, impact: Impact) -> Impact:
        key = [impact.transactional]
        for lock in impact.locks:
            key += (lock.relation, lock.mode)
        key.append(None)
        key += impact.rewrites
        key.append(None)
        key += impact.scans
        key.append(None)
        for item in impact.notes.items():
            key += item
        key.append(None)
        key += impact.index_locks
        key = tuple(key)
        recent = self._recent
        try:
            seen = recent.get(key)
        except TypeError:  # a note whose value is not hashable: this impact stays its own
            return impact
        if seen is not None:
            return seen
        recent[key] = impact
        if len(recent) > self._recent_size:
            del recent[next(iter(recent))]  # the oldest
        return impact

    def _shared_notes(self, notes: dict) -> dict:
        """Equal notes are one dict (there are a few kinds: {"builds_index": True}, ...)."""
        if not notes:
            return EMPTY_DICT
        try:
            key = tuple(notes.items())
            return self._notes.setdefault(key, notes)
        except TypeError:  # a value that is not hashable: kept as it is
            return notes
