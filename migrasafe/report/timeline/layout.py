"""From a replay's JSON report to what the timeline draws: views, tables, bars and latency lines.

One view per replay size (measured: `replay.timeline`) and one at production size (predicted:
each statement's `observed.predicted_ms` laid end to end, its locks held for
`observed.predicted_lock_held_ms`). In a view, each relation that was locked gets a lane of
bars, one per statement that locked it, on an axis made only of the migrations that locked it:
what happened in between (other migrations, seeding) is an idle stretch, drawn as a fixed gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...locks.modes import conflicts

PRODUCTION = "production"
READ_LOCK, WRITE_LOCK = "AccessShareLock", "RowExclusiveLock"


@dataclass
class Bar:
    migration: str
    index: int
    line: int
    sql: str
    mode: str
    start_ms: float  # migration-local
    end_ms: float
    run_start_ms: float  # the statement itself, inside the lock
    run_end_ms: float
    rehearsal_start_ms: float | None = None
    phase: str = ""  # "rewrite", "scan" or ""
    findings: list[dict] = field(default_factory=list)
    error: str = ""
    lane: int = 0

    @property
    def held_ms(self) -> float:
        return max(self.end_ms - self.start_ms, 0.0)


@dataclass
class Segment:
    """One migration on a relation's axis."""

    migration: str
    duration_ms: float
    hidden_before: int = 0  # migrations skipped (idle for this relation) since the previous segment


@dataclass
class Lane:
    relation: str
    segments: list[Segment] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    # (kind, migration) -> [(offset ms, latency ms, waited)]
    latency: dict[tuple[str, str], list[tuple[float, float, int]]] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return max((bar.lane for bar in self.bars), default=0) + 1


@dataclass
class View:
    key: str  # the size as text, or "production"
    title: str
    predicted: bool
    lanes: list[Lane] = field(default_factory=list)


def build_views(document: dict) -> list[View]:
    replay = document.get("replay") or {}
    statements = statement_index(document)
    views = []
    for entry in replay.get("timeline", []):
        size = entry.get("size", 0)
        views.append(measured_view(f"{size:,} rows (measured)", str(size), entry.get("migrations", []), statements))
    production = production_rows(replay)
    if views and production:
        views.append(production_view(f"{production:,} rows (production, predicted)", document, statements))
    return views


def production_rows(replay: dict) -> int:
    rows = replay.get("production_rows") or {}
    return max([rows.get("default", 0) or 0, *(rows.get("tables") or {}).values()], default=0)


def statement_index(document: dict) -> dict[tuple[str, int], dict]:
    return {(m.get("path"), s.get("index")): s for m in document.get("migrations", []) for s in m.get("statements", [])}


def phase_of(statement: dict, relation: str) -> str:
    observed = statement.get("observed") or {}
    if relation in (observed.get("rewrites") or statement.get("rewrites") or []):
        return "rewrite"
    if relation in (statement.get("scans") or []):
        return "scan"
    return ""


def new_bar(path: str, statement: dict, relation: str, mode: str, start: float, end: float,
            run_start: float, run_end: float) -> Bar:
    findings = [f for f in statement.get("findings", []) if isinstance(f, dict)]
    return Bar(migration=path, index=statement.get("index", 0), line=statement.get("line", 0),
               sql=statement.get("sql", ""), mode=mode, start_ms=start, end_ms=max(end, start),
               run_start_ms=run_start, run_end_ms=max(run_end, run_start), phase=phase_of(statement, relation),
               findings=findings, error=(statement.get("observed") or {}).get("error", ""))


def measured_view(title: str, key: str, migrations: list[dict], statements: dict) -> View:
    bars: dict[str, list[Bar]] = {}
    durations: dict[str, float] = {}
    latency: dict[str, dict] = {}
    order = [m.get("path", "") for m in migrations]
    for migration in migrations:
        path = migration.get("path", "")
        durations[path] = float(migration.get("duration_ms", 0.0))
        for entry in migration.get("statements", []):
            statement = statements.get((path, entry.get("index")), {"index": entry.get("index", 0)})
            for lock in entry.get("locks", []):
                bar = new_bar(path, statement, lock["relation"], lock["mode"], lock["acquired_ms"],
                              lock["released_ms"], entry["start_ms"], entry["end_ms"])
                bar.rehearsal_start_ms = entry.get("rehearsal_start_ms")
                bars.setdefault(lock["relation"], []).append(bar)
        for probe in migration.get("probes", []):
            samples = [(float(t), float(ms), int(waited)) for t, ms, waited in probe.get("samples", [])]
            latency.setdefault(probe["table"], {})[(probe["kind"], path)] = samples
    return View(key, title, False, [lane(relation, bars[relation], order, durations, latency.get(relation, {}))
                                    for relation in ordered_relations(bars)])


def production_view(title: str, document: dict, statements: dict) -> View:
    bars: dict[str, list[Bar]] = {}
    durations: dict[str, float] = {}
    order = []
    for migration in document.get("migrations", []):
        path = migration.get("path", "")
        clock = 0.0
        measured = [s for s in migration.get("statements", []) if s.get("observed")]
        if not measured:
            continue
        order.append(path)
        for statement in measured:
            observed = statement["observed"]
            ms = float((observed.get("predicted_ms") or {}).get("ms", observed.get("duration_ms", 0.0)))
            held = observed.get("predicted_lock_held_ms") or {}
            for lock in observed.get("locks", []):
                relation = lock["relation"]
                bars.setdefault(relation, []).append(new_bar(path, statement, relation, lock["mode"], clock,
                                                             clock + float(held.get(relation, ms)), clock, clock + ms))
            clock += ms
        durations[path] = max([clock, *(b.end_ms for r in bars.values() for b in r if b.migration == path)])
    lanes = []
    for relation in ordered_relations(bars):
        predicted = lane(relation, bars[relation], order, durations, {})
        predicted.latency = predicted_latency(predicted)
        lanes.append(predicted)
    return View(PRODUCTION, title, True, lanes)


def ordered_relations(bars: dict[str, list[Bar]]) -> list[str]:
    """Relations whose traffic waited longest first, then by name."""
    def worst(relation: str) -> float:
        return max((b.held_ms for b in bars[relation] if conflicts(b.mode, WRITE_LOCK)), default=0.0)

    return sorted(bars, key=lambda relation: (-worst(relation), relation))


def lane(relation: str, bars: list[Bar], order: list[str], durations: dict[str, float], latency: dict) -> Lane:
    """The relation's axis: the migrations that locked it, in order; the others counted as idle."""
    touched = {bar.migration for bar in bars}
    out = Lane(relation, bars=bars, latency=latency)
    hidden = 0
    for path in order:
        if path not in touched:
            hidden += 1
            continue
        out.segments.append(Segment(path, max(durations.get(path, 0.0), 0.001), hidden))
        hidden = 0
    assign_lanes(bars)
    return out


def assign_lanes(bars: list[Bar]) -> None:
    """Overlapping bars of one migration (locks held together in a transaction) get their own rows."""
    ends: dict[str, list[float]] = {}
    for bar in sorted(bars, key=lambda b: (b.migration, b.start_ms)):
        rows = ends.setdefault(bar.migration, [])
        for number, end in enumerate(rows):
            if end <= bar.start_ms:
                bar.lane, rows[number] = number, bar.end_ms
                break
        else:
            bar.lane = len(rows)
            rows.append(bar.end_ms)


def predicted_latency(lane_: Lane, baseline_ms: float = 1.0) -> dict:
    """At production size, a query arriving while a conflicting lock is held waits until its release."""
    out = {}
    for kind, wanted in (("read", READ_LOCK), ("write", WRITE_LOCK)):
        for segment in lane_.segments:
            held = sorted((b.start_ms, b.end_ms) for b in lane_.bars
                          if b.migration == segment.migration and conflicts(b.mode, wanted))
            points = [(0.0, baseline_ms, 0)]
            for start, end in merged(held):
                points += [(start, baseline_ms, 0), (start, baseline_ms + end - start, 1), (end, baseline_ms, 0)]
            points.append((segment.duration_ms, baseline_ms, 0))
            out[(kind, segment.migration)] = points
    return out


def merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]
