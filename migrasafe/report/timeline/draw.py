"""One relation's lane as inline SVG: lock bars coloured by mode, the statement's own run (hatched
when it rewrites or scans the table) inside each bar, and the probes' latency as lines beneath.

Hand-written SVG: the drawing is rectangles, lines and text on a piecewise axis (migrations side by
side, idle stretches as fixed gaps), which no chart library draws without its own multi-megabyte
script; a page that must open offline from a CI artifact is better off without one.
"""
from __future__ import annotations

import math
from html import escape

from .layout import Bar, Lane

MODE_COLOURS = {
    "AccessShareLock": "#9ccc65",
    "RowShareLock": "#7cb342",
    "RowExclusiveLock": "#26a69a",
    "ShareUpdateExclusiveLock": "#42a5f5",
    "ShareLock": "#ffb300",
    "ShareRowExclusiveLock": "#fb8c00",
    "ExclusiveLock": "#f4511e",
    "AccessExclusiveLock": "#c62828",
}
LATENCY_COLOURS = {"read": "#1565c0", "write": "#6a1b9a"}
PLOT_WIDTH = 1180
MIN_SEGMENT = 64
GAP, IDLE_GAP = 8, 46
HEADER, ROW, LATENCY, AXIS = 18, 20, 64, 16
MIN_BAR = 2.0


def short_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def fmt_ms(ms: float) -> str:
    if ms >= 10_000:
        return f"{ms / 1000:,.1f} s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


class Axis:
    """Migration-local milliseconds to x, segment by segment."""

    def __init__(self, lane: Lane):
        total = sum(s.duration_ms for s in lane.segments) or 1.0
        self.spans: dict[str, tuple[float, float, float]] = {}  # migration -> (x0, width, duration)
        self.gaps: list[tuple[float, int]] = []  # (x, hidden migrations)
        gaps = [IDLE_GAP if s.hidden_before else GAP if n else 0 for n, s in enumerate(lane.segments)]
        # Every migration gets a readable minimum; the width left is shared by duration, so a lane
        # fits the page unless it has more migrations than minimums fit (then it scrolls).
        spare = max(PLOT_WIDTH - sum(gaps) - MIN_SEGMENT * len(lane.segments), 0.0)
        x = 0.0
        for segment, gap in zip(lane.segments, gaps):
            if gap:
                self.gaps.append((x + gap / 2, segment.hidden_before))
                x += gap
            width = MIN_SEGMENT + spare * segment.duration_ms / total
            self.spans[segment.migration] = (x, width, segment.duration_ms)
            x += width
        self.width = x + 4

    def x(self, migration: str, ms: float) -> float:
        x0, width, duration = self.spans[migration]
        return x0 + width * min(max(ms, 0.0), duration) / duration


def bar_tooltip(bar: Bar, relation: str) -> str:
    lines = [f"{bar.mode} on {relation}, held {fmt_ms(bar.held_ms)}",
             f"{bar.migration}:{bar.line}" + (f" ({bar.phase} of {relation})" if bar.phase else ""),
             " ".join(bar.sql.split())[:400]]
    if bar.error:
        lines.append(f"failed: {bar.error}")
    lines += [f"{f.get('rule')} {f.get('name')} [{f.get('severity')}]: {f.get('message')}" for f in bar.findings]
    return "\n".join(lines)


def lane_svg(lane: Lane, view: str, predicted: bool) -> str:
    axis = Axis(lane)
    bars_height = lane.depth * ROW
    top_latency = HEADER + bars_height + 6
    height = top_latency + LATENCY + AXIS
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lane" width="{axis.width:.0f}" height="{height}" '
           f'viewBox="0 0 {axis.width:.0f} {height}" role="img" aria-label="locks on {escape(lane.relation)}">']
    for migration, (x0, width, duration) in axis.spans.items():
        out.append(f'<rect class="segment" x="{x0:.1f}" y="0" width="{width:.1f}" height="{height - AXIS}"/>')
        out.append(f'<text class="segment-name" x="{x0 + 3:.1f}" y="12">{escape(clip(short_name(migration), width))}'
                   f'<title>{escape(migration)}, {fmt_ms(duration)}</title></text>')
        out.append(f'<text class="tick" x="{x0 + width - 2:.1f}" y="{height - 4}" text-anchor="end">'
                   f'{fmt_ms(duration)}</text>')
    for x, hidden in axis.gaps:
        if hidden:
            out.append(f'<text class="idle" x="{x:.1f}" y="{HEADER + bars_height / 2 + 4:.1f}" text-anchor="middle">'
                       f'⋯<title>{hidden} migration{"s" if hidden != 1 else ""} that did not lock '
                       f'{escape(lane.relation)}, left out</title></text>')
            out.append(f'<text class="idle-count" x="{x:.1f}" y="{height - 4}" text-anchor="middle">{hidden}</text>')
    for bar in lane.bars:
        out.append(bar_svg(bar, axis, lane.relation, view))
    out.append(latency_svg(lane, axis, top_latency, predicted))
    out.append("</svg>")
    return "".join(out)


def clip(text: str, width: float) -> str:
    fits = max(int(width / 6.2), 3)
    return text if len(text) <= fits else text[: fits - 1] + "…"


def bar_svg(bar: Bar, axis: Axis, relation: str, view: str) -> str:
    y = HEADER + bar.lane * ROW + 2
    x0, x1 = axis.x(bar.migration, bar.start_ms), axis.x(bar.migration, bar.end_ms)
    r0, r1 = axis.x(bar.migration, bar.run_start_ms), axis.x(bar.migration, bar.run_end_ms)
    colour = MODE_COLOURS.get(bar.mode, "#888")
    severity = max((f.get("severity", "") for f in bar.findings), key=SEVERITY_ORDER.get, default="")
    parts = [f'<g class="statement" data-migration="{escape(bar.migration)}" data-line="{bar.line}">',
             f"<title>{escape(bar_tooltip(bar, relation))}</title>"]
    if bar.rehearsal_start_ms is not None:
        h0 = axis.x(bar.migration, bar.rehearsal_start_ms)
        parts.append(f'<rect class="rehearsal" x="{h0:.1f}" y="{y + 4}" width="{max(r0 - h0, 0):.1f}" '
                     f'height="{ROW - 12}"/>')
    parts.append(f'<rect class="bar" data-mode="{bar.mode}" data-view="{escape(view)}" x="{x0:.1f}" y="{y}" '
                 f'width="{max(x1 - x0, MIN_BAR):.1f}" height="{ROW - 4}" fill="{colour}"/>')
    run_class = f"run {bar.phase}" if bar.phase else "run"
    parts.append(f'<rect class="{run_class}" x="{r0:.1f}" y="{y + 3}" width="{max(r1 - r0, 1.0):.1f}" '
                 f'height="{ROW - 10}"/>')
    if severity:
        parts.append(f'<circle class="finding {severity}" cx="{x0 + 1:.1f}" cy="{y}" r="3.5"/>')
    parts.append("</g>")
    return "".join(parts)


SEVERITY_ORDER = {"": 0, "info": 1, "warning": 2, "error": 3}


def latency_svg(lane: Lane, axis: Axis, top: float, predicted: bool) -> str:
    samples = [s for points in lane.latency.values() for s in points]
    if not samples:
        return (f'<text class="no-latency" x="4" y="{top + LATENCY / 2:.0f}">no probe on this relation '
                f'(not a live table, or --no-probes)</text>')
    highest = max(max(ms for _, ms, _ in samples), 10.0)
    scale = math.log10(1 + highest)

    def y(ms: float) -> float:
        return top + LATENCY - LATENCY * math.log10(1 + max(ms, 0.0)) / scale

    out = [f'<line class="baseline" x1="0" x2="{axis.width:.0f}" y1="{top + LATENCY:.1f}" y2="{top + LATENCY:.1f}"/>']
    for tick in (1, 10, 100, 1000, 10_000, 100_000):
        if tick <= highest:
            out.append(f'<line class="grid" x1="0" x2="{axis.width:.0f}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                       f'<text class="tick" x="2" y="{y(tick) - 2:.1f}">{fmt_ms(tick)}</text>')
    for (kind, migration), points in sorted(lane.latency.items()):
        if migration not in axis.spans or not points:
            continue
        coords = " ".join(f"{axis.x(migration, t):.1f},{y(ms):.1f}" for t, ms, _ in points)
        label = "predicted wait" if predicted else "latency"
        out.append(f'<polyline class="latency {kind}" points="{coords}" stroke="{LATENCY_COLOURS[kind]}">'
                   f'<title>{kind} probe {label} on {escape(lane.relation)} during {escape(migration)}: '
                   f'up to {fmt_ms(max(ms for _, ms, _ in points))}</title></polyline>')
        for t, ms, waited in points:
            if waited and not predicted:
                out.append(f'<circle class="waited {kind}" cx="{axis.x(migration, t):.1f}" cy="{y(ms):.1f}" r="2.5">'
                           f'<title>{kind} waited on a lock: {fmt_ms(ms)}</title></circle>')
    return "".join(out)
