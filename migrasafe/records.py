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
from .shared import EMPTY_DICT, NONE, SharedList


class Shared:
    """The records equal statements of one migration share."""

    def __init__(self):
        self._impacts: dict = {}
        self._lives: dict = {}
        self._notes: dict = {}

    def keep_little(self, analysed: AnalysedStatement) -> None:
        analysed.statement.release()
        analysed.impact = self.impact(analysed.impact)
        live = frozenset(analysed.live)
        analysed.live = self._lives.setdefault(live, live)
        if not analysed.findings:
            analysed.findings = NONE
        if not analysed.folded:
            analysed.folded = NONE

    def impact(self, impact: Impact) -> Impact:
        if len(impact.locks) > 1 or impact.rewrites or impact.scans or impact.notes or not impact.transactional:
            # Rarer, and a table of them would cost more than it saves while the migration is
            # analysed: only its empty parts are shared.
            impact.rewrites = impact.rewrites or NONE
            impact.scans = impact.scans or NONE
            impact.notes = self._shared_notes(impact.notes)
            return impact
        # Most statements take one lock and nothing else: the lock is the key.
        key = impact.locks[0] if impact.locks else None
        shared = self._impacts.get(key)
        if shared is None:
            shared = self._impacts[key] = Impact(SharedList(impact.locks) if impact.locks else NONE, NONE, NONE)
        return shared

    def _shared_notes(self, notes: dict) -> dict:
        """Equal notes are one dict (there are a few kinds: {"builds_index": True}, ...)."""
        if not notes:
            return EMPTY_DICT
        try:
            key = tuple(notes.items())
            return self._notes.setdefault(key, notes)
        except TypeError:  # a value that is not hashable: kept as it is
            return notes
