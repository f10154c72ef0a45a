"""The round trips of one history, on a database of its own.

For each migration N with a round trip: snapshot the schema, apply N, snapshot, run its sqitch
verify script, apply its backward part, snapshot and compare with the schema before N, apply N
again and compare with the schema its first application gave. N+1 starts from the schema N
applied again left. A migration without a round trip is applied forward only.

A part that fails stops at the failing statement and its transaction is rolled back, as its tool
does. When the backward part fails and its statements before the failure were committed (a part
run without a transaction), or when N applied again fails, the history is applied again on a new
database up to N (from a copy of the database kept every CHECKPOINT_EVERY migrations), and goes on
from there. When a migration fails going forward the first time, the migrations after it are not
verified.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..catalog import Catalog
from ..config import Config
from ..model import Migration
from ..snapshot import diff, take_snapshot
from .apply import Applied, Applier
from .outcome import (FAILED, FORWARD_ONLY, IRREVERSIBLE, MISSING, NOT_RESTORED, NOT_VERIFIED, RESTORED,
                      ChainResult, Note, TripResult, applied_again, not_restored)
from .parts import Chain, Step
from .trips import Trip


def verify_chains(server, planned: list[tuple[Chain, list[Trip]]], config: Config, progress=None,
                  statement_timeout_ms: float | None = None) -> list[ChainResult]:
    results = []
    for chain, trips in planned:
        run = ChainRun(server, chain, trips, config, progress, statement_timeout_ms)
        results.append(run.run())
    return results


class ChainRun:
    def __init__(self, server, chain: Chain, trips: list[Trip], config: Config, progress=None,
                 statement_timeout_ms: float | None = None):
        self.server, self.chain, self.trips, self.config = server, chain, trips, config
        self.progress = progress
        self.statement_timeout_ms = statement_timeout_ms
        self.stack = contextlib.ExitStack()
        self.applier: Applier | None = None
        self.conn = None
        self.database = ""  # the name of the database the parts run in
        self.applied: list[Step] = []  # forward parts in the database, for a rebuild
        # A copy of the database after the first `count` applied parts, which a rebuild starts from.
        self.checkpoint_stack = contextlib.ExitStack()
        self.checkpoint: Checkpoint | None = None

    def run(self) -> ChainResult:
        result = ChainResult(self.chain.root, self.chain.format)
        stopped = False
        roles = self.server.roles()
        try:
            self.fresh_database()
            for number, trip in enumerate(self.trips, start=1):
                step = trip.step
                outcome = TripResult(step.name, step.forward.path, step.backward.label, step.backward.path, RESTORED)
                result.trips.append(outcome)
                if stopped:
                    outcome.status, outcome.why = NOT_VERIFIED, "an earlier migration failed or could not be read"
                    continue
                if step.forward.broken:  # an input error, reported as such: nothing after it can be run
                    outcome.status, outcome.why, stopped = NOT_VERIFIED, "it could not be read", True
                    continue
                if self.progress is not None:
                    self.progress.step(f"verify {step.name}", number - 1, len(self.trips), force=number == 1)
                self.keep_checkpoint()
                stopped = not (self.round_trip(step, outcome) if trip.round_trip else self.forward_only(trip, outcome))
        finally:
            self.close_database()
            self.checkpoint_stack.close()
            if self.server.backend != "dsn":  # roles are the server's: the ones the migrations made go now
                from ..replay.backends import drop_new_roles

                drop_new_roles(self.server.admin_conninfo, roles)
        return result

    # ---------------------------------------------------------------- one migration

    def forward_only(self, trip: Trip, outcome: TripResult) -> bool:
        outcome.status, outcome.why = FORWARD_ONLY, trip.why
        if not self.forward(trip.step, outcome, "fails"):
            return False
        self.applied.append(trip.step)
        return True

    def round_trip(self, step: Step, outcome: TripResult) -> bool:
        backward = step.backward
        before = self.snapshot()
        if not self.forward(step, outcome, "fails"):
            return False
        self.applied.append(step)
        first = self.snapshot()
        self.check(step, outcome, "deployed")
        if backward.missing or backward.irreversible:
            if outcome.status != FAILED:  # its sqitch verify script failed
                outcome.status = MISSING if backward.missing else IRREVERSIBLE
            text = f"{step.name} has {backward.missing}" if backward.missing else f"{backward.label} {backward.irreversible}"
            outcome.notes.append(Note("info", "missing" if backward.missing else "irreversible", text,
                                      step.forward.path, backward.declared_line))
            return True
        if backward.migration.broken:  # an input error, reported as such
            outcome.status, outcome.why = NOT_VERIFIED, "its backward part could not be read"
            return True
        for note in backward.notes:
            outcome.notes.append(Note("info", "note", f"{backward.label}: {note.message}", note.path, note.line))
        applied = self.apply(backward.migration, outcome)
        if applied.failure is not None:
            failure = applied.failure
            outcome.status = FAILED
            cause = _unrendered(backward.migration, failure.line)
            if cause:  # said with the failure it explains
                outcome.notes = [n for n in outcome.notes if not (n.kind == "note" and n.line == cause[1])]
            outcome.notes.append(Note("error", "failure", f"{backward.label} fails at line {failure.line}: "
                                      f"{failure.error}{cause[0] if cause else ''}", failure.path, failure.line))
            if not diff(first, self.snapshot()):  # its transaction was rolled back: the schema is the one N left
                return True
            return self.rebuild(outcome)
        restored = self.snapshot()
        differences = diff(before, restored, labels=(f"the schema before {step.name}", f"the schema after its "
                                                                                       f"{_word(backward.label)}"))
        for difference in differences:
            outcome.notes.append(Note("error", "difference", not_restored(backward.label, difference),
                                      backward.path, backward.line, difference))
        if differences:
            outcome.status = NOT_RESTORED
        word = _word(backward.label)
        if not self.forward(step, outcome, f"applied again after its {word} fails"):
            return self.rebuild(outcome)
        second = self.snapshot()
        again = diff(first, second, labels=("the first upgrade", "the second upgrade"))
        for difference in again:
            outcome.notes.append(Note("error", "again", applied_again(step.name, word, difference),
                                      step.forward.path, _first_line(step.forward), difference))
        if again and outcome.status == RESTORED:
            outcome.status = NOT_RESTORED
        self.check(step, outcome, "deployed again")
        return True

    def forward(self, step: Step, outcome: TripResult, what: str) -> bool:
        applied = self.apply(step.forward, outcome)
        if applied.failure is None:
            return True
        failure = applied.failure
        if outcome.status != NOT_RESTORED:  # what the backward part left is what the failure follows from
            outcome.status = FAILED
        cause = _unrendered(step.forward, failure.line)
        message = f"{step.name} {what} at line {failure.line}: {failure.error}{cause[0] if cause else ''}"
        if failure.error.startswith("0A000") and "extension" in failure.error:
            message += (f"; {self.server.label} does not have it: verify on a server that does (--backend docker, "
                        f"or --backend dsn)")
        outcome.notes.append(Note("error", "failure", message, failure.path, failure.line))
        return False

    def check(self, step: Step, outcome: TripResult, when: str) -> None:
        """sqitch verify scripts must succeed after each deploy."""
        for script in step.checks:
            applied = self.apply(script, outcome)
            if applied.failure is not None:
                failure = applied.failure
                outcome.status = FAILED
                outcome.notes.append(Note("error", "check", f"verify script of {step.name} fails after it is {when}, "
                                          f"at line {failure.line}: {failure.error}", failure.path, failure.line))

    def apply(self, migration: Migration, outcome: TripResult) -> Applied:
        applied = self.applier.apply(migration)
        for what in applied.not_run:
            outcome.notes.append(Note("info", "note", f"not run on the --dsn server, as it reaches outside the "
                                      f"verify database: {what}", migration.path, 1))
        return applied

    # ---------------------------------------------------------------- the database

    def rebuild(self, outcome: TripResult) -> bool:
        """A new database with the forward parts applied so far (from the last checkpoint's copy);
        False when one of them fails now."""
        checkpoint = self.checkpoint
        self.fresh_database(checkpoint)
        for step in self.applied[checkpoint.count if checkpoint else 0:]:
            applied = self.applier.apply(step.forward)
            if applied.failure is not None:
                failure = applied.failure
                outcome.notes.append(Note("error", "stopped", f"{step.name} fails when the history is applied "
                                          f"again on a new database, at line {failure.line}: {failure.error}; the "
                                          f"migrations after it are not verified", failure.path, failure.line))
                return False
        return True

    def keep_checkpoint(self) -> None:
        """Every CHECKPOINT_EVERY parts, a copy of the database as they left it, so that a rebuild
        applies at most that many again."""
        done = self.checkpoint.count if self.checkpoint else 0
        if len(self.applied) - done < CHECKPOINT_EVERY:
            return
        self.conn.close()  # a database is copied only while no session is connected to it
        stack = contextlib.ExitStack()
        conninfo = stack.enter_context(self.server.database(template=self.database, drop_roles=False))
        self.checkpoint_stack.close()
        self.checkpoint_stack = stack
        self.checkpoint = Checkpoint(_name(conninfo), len(self.applied), self.applier.catalog.copy())
        self.conn = self.stack.enter_context(_connect(self.applier.conninfo))

    def fresh_database(self, checkpoint: Checkpoint | None = None) -> None:
        from ..replay.outside import reaches_outside
        from ..replay.run import SizeRun, load_schema_dumps

        self.close_database()
        self.stack = contextlib.ExitStack()
        template = checkpoint.database if checkpoint is not None else "template0"
        conninfo = self.stack.enter_context(self.server.database(template=template, drop_roles=False))
        self.database = _name(conninfo)
        self.conn = self.stack.enter_context(_connect(conninfo))
        refuse = reaches_outside if self.server.backend == "dsn" else None
        if self.applier is None:
            self.applier = Applier(conninfo, self.config, local_server=self.server.backend == "embedded",
                                   refuse=refuse, **_timeout(self.statement_timeout_ms))
        else:
            self.applier.restart(conninfo, checkpoint.catalog if checkpoint is not None else None)
        if checkpoint is None:
            load_schema_dumps(self.conn, self.config, SizeRun(0), refuse)

    def close_database(self) -> None:
        self.stack.close()
        self.conn = None

    def snapshot(self):
        return take_snapshot(self.conn)


CHECKPOINT_EVERY = 25


@dataclass
class Checkpoint:
    database: str
    count: int  # of ChainRun.applied
    catalog: Catalog  # the schema model then


def _name(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(conninfo)["dbname"]


def _connect(conninfo: str):
    import psycopg

    return psycopg.connect(conninfo, autocommit=True)


# Findings of the readers that say part of a migration's code was not rendered to SQL.
NOT_RENDERED = {"MS096", "MS085"}


def _unrendered(migration: Migration, line: int) -> tuple[str, int] | None:
    """What was not rendered up to the failing line, the likelier cause (an operation Alembic could
    not emit, application code that is not installed here), and its line."""
    notes = [f for f in migration.findings if f.rule in NOT_RENDERED and f.line <= line]
    if not notes:
        return None
    last = notes[-1]
    return f" (line {last.line} was not rendered: {last.message})", last.line


def _word(label: str) -> str:
    return label.split(" of ", 1)[0]


def _first_line(migration: Migration) -> int:
    return migration.statements[0].line if migration.statements else 1


def _timeout(ms: float | None) -> dict:
    return {} if ms is None else {"statement_timeout_ms": ms}
