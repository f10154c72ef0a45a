"""The replay's lock timeline as a Mermaid `gantt` chart, for the pull-request comment (GitHub
renders Mermaid in comments). Only locks that block reads or writes are drawn, at production size
as predicted from the replay (`observed.predicted_ms`, `observed.predicted_lock_held_ms`): each
migration's statements end to end, the migrations with such a lock one after the other (the
others, idle for the chart, left out), one section per table.
"""
from __future__ import annotations

from ..locks.modes import blocks_reads, blocks_writes
from ..model import MigrationResult

MAX_TASKS = 40
# Mermaid reads ':' as the start of a task's data and '#', ';' as comment and separator.
UNSAFE = str.maketrans({":": " ", "#": " ", ";": " ", "\n": " "})


def gantt_tasks(results: list[MigrationResult]) -> list[tuple[str, str, str, float, float]]:
    """(relation, label, tag, start ms, end ms) for every lock blocking reads or writes."""
    tasks = []
    origin = 0.0
    for result in results:
        clock, end_of_migration, found = 0.0, 0.0, False
        name = result.migration.path.rsplit("/", 1)[-1]
        for analysed in result.statements:
            observed = analysed.observed
            if not observed or observed.get("error"):
                continue
            predicted = observed.get("predicted_ms")
            ms = _ms(predicted.get("ms") if isinstance(predicted, dict) else observed.get("duration_ms", 0.0))
            held = observed.get("predicted_lock_held_ms") or observed.get("lock_held_ms") or {}
            held = held if isinstance(held, dict) else {}
            for lock in observed.get("locks") or []:
                if not isinstance(lock, dict):
                    continue
                mode, relation = lock.get("mode", ""), lock.get("relation", "")
                if not blocks_writes(mode):
                    continue
                end = clock + max(_ms(held.get(relation, ms)), 1.0)
                tag = "crit" if blocks_reads(mode) else "active"
                tasks.append((relation, f"{mode} {name} line {analysed.statement.line}", tag, origin + clock,
                              origin + end))
                end_of_migration, found = max(end_of_migration, end), True
            clock += ms
        if found:
            origin += max(end_of_migration, clock)
    return tasks


def _ms(value) -> float:
    """A figure from a replay report; one that is not a number (an odd or hand-edited report)
    counts as zero rather than ending the report."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def gantt_chart(results: list[MigrationResult]) -> list[str]:
    tasks = gantt_tasks(results)
    if not tasks:
        return []
    shown = sorted(tasks, key=lambda t: t[3] - t[4])[:MAX_TASKS]  # the longest held first
    lines = ["Locks that block reads (crit) or writes, at production size as predicted; migrations without "
             "one are left out:", "", "```mermaid", "gantt",
             "    dateFormat x", "    axisFormat %M:%S", "    title Locks blocking reads or writes (predicted)"]
    for relation in sorted({t[0] for t in shown}):
        lines.append(f"    section {relation.translate(UNSAFE)}")
        for _, label, tag, start, end in sorted((t for t in shown if t[0] == relation), key=lambda t: t[3]):
            lines.append(f"    {label.translate(UNSAFE)} :{tag}, {round(start)}, {max(round(end), round(start) + 1)}")
    lines += ["```", ""]
    if len(tasks) > len(shown):
        lines += [f"_{len(tasks) - len(shown)} shorter locks are not charted; the HTML timeline has them all._", ""]
    return lines
