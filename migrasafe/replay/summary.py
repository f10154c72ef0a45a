"""The replay's part of the text report: what ran where, and per migration what it cost.

    replay: PostgreSQL 18.1 (embedded wheel); 10,000 / 100,000 rows, predicted at 1,000,000 (--rows)
      migrations/V3__index.sql: 212 ms at 100,000 rows, about 2.1 s at production size
        line 1: ShareLock on public.orders held 190 ms (about 1.9 s predicted); writes on public.orders waited up to 185 ms (185 ms in all)
"""
from __future__ import annotations

from ..locks.modes import blocks_writes
from ..model import Report
from ..verdict import reported
from .budget import format_ms

INDENT = "  "


def replay_lines(report: Report) -> list[str]:
    replay = report.replay or {}
    sizes = " / ".join(f"{size:,}" for size in replay.get("sizes", []))
    production = replay.get("production_rows", {})
    head = f"replay: {replay.get('server', '?')}; {sizes} rows"
    largest = max([production.get("default", 0), *production.get("tables", {}).values()], default=0)
    if replay.get("sizes") and largest > max(replay["sizes"]):
        head += f", predicted at up to {largest:,} ({production.get('source', '')})"
    if replay.get("server_major") != replay.get("pg_version"):
        head += (f" — the server is PostgreSQL {replay.get('server_major')}, the migrations target "
                 f"{replay.get('pg_version')} (--backend docker runs postgres:{replay.get('pg_version')})")
    out = [head]
    summaries = {m["path"]: m for m in replay.get("migrations", [])}
    for result in reported(report):
        figures = summaries.get(result.migration.path)
        if figures is None:
            continue
        measured = figures.get("measured_ms", {})
        if measured:
            size, ms = max(measured.items(), key=lambda item: int(item[0]))
            line = f"{INDENT}{result.migration.path}: {format_ms(ms)} at {int(size):,} rows"
            if int(size) < largest:
                line += f", about {format_ms(figures.get('predicted_ms', 0.0))} at production size"
            out.append(line)
        for analysed in result.statements:
            detail = statement_line(analysed.observed)
            if detail:
                out.append(f"{INDENT * 2}line {analysed.statement.line}: {detail}")
    out.append("")
    return out


def statement_line(observed: dict | None) -> str:
    """One line for a statement that held a lock blocking writes, rewrote, or made a probe wait."""
    if not observed:
        return ""
    if observed.get("error"):
        return f"failed: {observed['error']}"
    parts = []
    predicted_held = observed.get("predicted_lock_held_ms", {})
    for lock in observed.get("locks", []):
        relation, mode = lock["relation"], lock["mode"]
        if not blocks_writes(mode):
            continue
        held = observed.get("lock_held_ms", {}).get(relation, 0.0)
        text = f"{mode} on {relation} held {format_ms(held)}"
        if relation in predicted_held and predicted_held[relation] > held * 1.05:
            text += f" (about {format_ms(predicted_held[relation])} predicted)"
        parts.append(text)
    for relation in observed.get("rewrites", []):
        parts.append(f"rewrote {relation}")
    for table, kinds in observed.get("blocked_ms", {}).items():
        for kind in ("writes", "reads"):
            waited = kinds.get(kind, {})
            if waited.get("max", 0) >= 1:
                parts.append(f"{kind} on {table} waited up to {format_ms(waited['max'])} "
                             f"({format_ms(waited['total'])} in all)")
    return "; ".join(parts)
