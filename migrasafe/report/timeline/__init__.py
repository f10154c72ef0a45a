"""The replay as one self-contained HTML page (`migrasafe replay --html FILE`): per relation, a
timeline of the locks each statement held, coloured by mode, with the probes' latency beneath,
at each replay size and at production size; statement text and findings on hover and in a list
beside each lane. Inline CSS, SVG and a few lines of script, nothing fetched: it opens offline,
from a CI artifact.

The script marks the page `data-ready="true"` once it has run (`data-error` if it failed), which is
what the browser test reads.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ...locks.modes import MODES, describe_blocking
from .draw import LATENCY_COLOURS, MODE_COLOURS, fmt_ms, lane_svg, short_name
from .layout import Bar, View, build_views

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:18px 0 6px}h3{font-size:15px;margin:14px 0 4px}
.meta{color:#555;margin:0 0 10px}.views button{margin:0 6px 6px 0;padding:4px 10px;border:1px solid #999;
background:#f4f4f4;border-radius:4px;cursor:pointer}.views button[aria-pressed=true]{background:#263238;color:#fff}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 12px;font-size:12px}
.legend span.swatch{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
.scroll{overflow-x:auto;border:1px solid #ddd;padding:4px;background:#fcfcfc}
svg.lane text{font-size:10px;fill:#444}svg.lane .segment{fill:#f1f3f4}svg.lane .idle{font-size:16px;fill:#777}
svg.lane .idle-count{fill:#777}svg.lane .bar{stroke:#0003}svg.lane .run{fill:#0004}
svg.lane .run.rewrite{fill:url(#hatch-rewrite)}svg.lane .run.scan{fill:url(#hatch-scan)}
svg.lane .rehearsal{fill:none;stroke:#999;stroke-dasharray:2 2}
svg.lane .latency{fill:none;stroke-width:1.3}svg.lane .grid{stroke:#e0e0e0}svg.lane .baseline{stroke:#bbb}
svg.lane .waited.read{fill:#1565c0}svg.lane .waited.write{fill:#6a1b9a}
svg.lane .finding{stroke:#fff;stroke-width:1}.finding.error{fill:#b71c1c}.finding.warning{fill:#f9a825}
.finding.info{fill:#607d8b}svg.lane .statement:hover .bar{stroke:#000;stroke-width:1.5}
table.statements{border-collapse:collapse;font-size:12px;margin:6px 0 4px}
table.statements td,table.statements th{border:1px solid #ddd;padding:2px 6px;vertical-align:top;text-align:left}
table.statements code{font-size:11px}.sev-error{color:#b71c1c}.sev-warning{color:#8d6e00}
details{margin:2px 0 10px}.hidden{display:none}
"""
PATTERNS = ('<svg width="0" height="0" style="position:absolute"><defs>'
            '<pattern id="hatch-rewrite" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#0002"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#000a" stroke-width="3"/></pattern>'
            '<pattern id="hatch-scan" width="5" height="5" patternUnits="userSpaceOnUse">'
            '<rect width="5" height="5" fill="#0002"/><circle cx="2.5" cy="2.5" r="1.2" fill="#000a"/></pattern>'
            '</defs></svg>')
SCRIPT = """
(function () {
  try {
    var buttons = document.querySelectorAll('.views button');
    function show(key) {
      document.querySelectorAll('.view').forEach(function (view) {
        view.classList.toggle('hidden', view.dataset.view !== key);
      });
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', b.dataset.view === key ? 'true' : 'false'); });
    }
    buttons.forEach(function (b) { b.addEventListener('click', function () { show(b.dataset.view); }); });
    // #view=KEY (a size, or "production") opens that view; the default is production size.
    var asked = /^#view=(.+)$/.exec(window.location.hash);
    var keys = Array.prototype.map.call(buttons, function (b) { return b.dataset.view; });
    if (keys.length) { show(asked && keys.indexOf(asked[1]) >= 0 ? asked[1] : keys[keys.length - 1]); }
    var counts = {};
    document.querySelectorAll('.view').forEach(function (view) {
      view.querySelectorAll('section.relation').forEach(function (section) {
        var key = view.dataset.view + ' ' + section.dataset.relation;
        counts[key] = section.querySelectorAll('rect.bar').length;
      });
    });
    document.documentElement.setAttribute('data-bars', JSON.stringify(counts));
    document.documentElement.setAttribute('data-ready', 'true');
  } catch (err) {
    document.documentElement.setAttribute('data-error', String(err));
    throw err;
  }
})();
"""


def render_html(document: dict) -> str:
    """The page for a JSON report (`--format json`) of a replay."""
    replay = document.get("replay") or {}
    views = build_views(document)
    body = [f"<h1>migrasafe replay: lock timeline</h1><p class=meta>{escape(summary(replay, document))}</p>"]
    if not views:
        body.append("<p>No statement was measured: nothing to draw.</p>")
    else:
        body.append('<div class="views">' + "".join(
            f'<button type="button" data-view="{escape(v.key)}" aria-pressed="false">{escape(v.title)}</button>'
            for v in views) + "</div>")
        body.append(legend())
        body.append(PATTERNS)
        body += [view_html(view) for view in views]
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>migrasafe replay timeline</title><style>{STYLE}</style></head><body>"
            + "".join(body) + f"<script>{SCRIPT}</script></body></html>\n")


def summary(replay: dict, document: dict) -> str:
    sizes = " / ".join(f"{s:,}" for s in replay.get("sizes", []))
    count = len(document.get("migrations", []))
    return (f"{replay.get('server', 'PostgreSQL')}; {count} migration{'s' if count != 1 else ''} at {sizes} rows; "
            f"verdict {document.get('verdict', '?')}. Idle stretches (migrations that did not lock a relation, "
            "seeding) are collapsed to ⋯ with their count. Hover a bar for its statement and findings.")


def legend() -> str:
    items = [f'<span><span class="swatch" style="background:{MODE_COLOURS[mode]}"></span>'
             f"<b>{mode}</b>: {escape(describe_blocking(mode))}</span>" for mode in MODES]
    items += ['<span><span class="swatch" style="background:#0004"></span>the statement running '
              '(the bar goes on until its transaction ends)</span>',
              '<span><span class="swatch" style="background:repeating-linear-gradient(45deg,#000a 0 3px,#0002 3px 6px)">'
              '</span>rewrites the table</span>',
              '<span><span class="swatch" style="background:radial-gradient(#000a 30%,#0002 35%);background-size:5px 5px">'
              '</span>scans the table</span>',
              '<span><span class="swatch" style="border:1px dashed #999;height:8px"></span>rehearsals '
              '(run and rolled back; the fastest is kept)</span>']
    items += [f'<span><span class="swatch" style="background:{colour};height:2px"></span>{kind} probe latency '
              "(log scale; dots: waited on a lock)</span>" for kind, colour in LATENCY_COLOURS.items()]
    return '<div class="legend">' + "".join(items) + "</div>"


def view_html(view: View) -> str:
    out = [f'<div class="view" data-view="{escape(view.key)}"><h2>{escape(view.title)}</h2>']
    if view.predicted:
        out.append("<p class=meta>Durations extrapolated from the measured sizes; a query arriving while a "
                   "conflicting lock is held is drawn waiting until its release.</p>")
    for lane in view.lanes:
        out.append(f'<section class="relation" data-relation="{escape(lane.relation)}">'
                   f"<h3>{escape(lane.relation)} <small>({len(lane.bars)} lock{'s' if len(lane.bars) != 1 else ''}, "
                   f"{len(lane.segments)} migration{'s' if len(lane.segments) != 1 else ''})</small></h3>"
                   f'<div class="scroll">{lane_svg(lane, view.key, view.predicted)}</div>'
                   + statements_table(lane.bars) + "</section>")
    out.append("</div>")
    return "".join(out)


def statements_table(bars: list[Bar]) -> str:
    rows = []
    for bar in sorted(bars, key=lambda b: -b.held_ms)[:200]:
        findings = "<br>".join(
            f'<span class="sev-{escape(f.get("severity", ""))}">{escape(str(f.get("rule")))} '
            f'{escape(str(f.get("name")))}</span>: {escape(str(f.get("message", "")))}' for f in bar.findings)
        if bar.error:
            findings = f"failed: {escape(bar.error)}" + ("<br>" + findings if findings else "")
        sql = " ".join(bar.sql.split())
        rows.append(f"<tr><td>{escape(short_name(bar.migration))}:{bar.line}</td><td>{escape(bar.mode)}</td>"
                    f"<td>{fmt_ms(bar.held_ms)}</td><td><code>{escape(sql[:160] + ('…' if len(sql) > 160 else ''))}"
                    f"</code></td><td>{findings}</td></tr>")
    return ("<details><summary>statements and findings, longest held first</summary><table class=statements>"
            "<tr><th>where</th><th>lock</th><th>held</th><th>statement</th><th>findings</th></tr>"
            + "".join(rows) + "</table></details>")


def write_html(document: dict, path: str | Path) -> None:
    Path(path).write_text(render_html(document), encoding="utf-8")


def report_document(report) -> dict:
    """The JSON form of a report, which the page is drawn from."""
    from ..json import render_json

    document = json.loads(render_json(report))
    scans = {(r.migration.path, a.statement.index): list(a.impact.scans) for r in report.results for a in r.statements}
    for migration in document.get("migrations", []):
        for statement in migration.get("statements", []):
            statement["scans"] = scans.get((migration.get("path"), statement.get("index")), [])
    return document
