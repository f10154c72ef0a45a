"""When things happened during one migration's replay: the data the lock timeline is drawn from.

Offsets are milliseconds of wall clock from the moment the migration's session started running
it (`MigrationRun.started`), so statements, the locks they held and the probes' queries share
one axis. A lock taken inside a transaction is held from its statement's start to the end of
the transaction; outside one, for the statement alone. Probe queries are kept as samples
(start offset, latency, whether the server saw them wait on a lock), thinned to the slowest
query per time bucket when a long migration made many, so the file stays small.
"""
from __future__ import annotations

from .measure import MigrationRun
from .probe import ProbeQuery

# Samples kept per probe and migration; a busier probe keeps the slowest query of each bucket.
MAX_SAMPLES = 240


def offset(moment: float, origin: float) -> float:
    return round((moment - origin) * 1000, 2)


def migration_timeline(path: str, migration: MigrationRun, queries: list[ProbeQuery], size_origin: float) -> dict:
    """The timeline of one migration at one size (docs/json-output.md, `replay.timeline`)."""
    origin = migration.started
    statements = []
    for run in migration.runs:
        entry = {
            "index": run.index,
            "start_ms": offset(run.started, origin),
            "end_ms": offset(run.ended, origin),
            "locks": [{"relation": relation, "mode": mode, "acquired_ms": offset(run.started, origin),
                       "released_ms": offset(max(run.released, run.ended), origin)}
                      for relation, mode in sorted(run.locks.items())],
        }
        if run.first_started and run.first_started < run.started:
            entry["rehearsal_start_ms"] = offset(run.first_started, origin)
        if run.error is not None:
            entry["error"] = run.error
        statements.append(entry)
    probes: dict[tuple[str, str], list[list]] = {}
    for query in queries:
        if query.started < origin or query.started > migration.ended:
            continue  # before the migration's first statement or after its commit: not its traffic
        probes.setdefault((query.table, query.kind), []).append(
            [offset(query.started, origin), round(query.ms, 2), 1 if query.waited else 0])
    return {
        "path": path,
        "started_ms": offset(origin, size_origin),
        "duration_ms": offset(migration.ended, origin),
        "statements": statements,
        "probes": [{"table": table, "kind": kind, "samples": thinned(samples)}
                   for (table, kind), samples in sorted(probes.items())],
    }


def thinned(samples: list[list], limit: int = MAX_SAMPLES) -> list[list]:
    """At most `limit` samples, keeping the slowest of each equal stretch of time."""
    if len(samples) <= limit:
        return samples
    first, last = samples[0][0], samples[-1][0]
    width = (last - first) / limit or 1.0
    buckets: dict[int, list] = {}
    for sample in samples:
        slot = min(int((sample[0] - first) / width), limit - 1)
        kept = buckets.get(slot)
        if kept is None or sample[1] > kept[1]:
            buckets[slot] = sample
    return [buckets[slot] for slot in sorted(buckets)]
