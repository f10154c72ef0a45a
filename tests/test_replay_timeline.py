"""The lock timeline's layout (HTML page) and the Mermaid chart of the PR comment, from replay data."""
from __future__ import annotations

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.report.gantt import gantt_chart
from migrasafe.report.markdown import render_markdown
from migrasafe.report.timeline import render_html
from migrasafe.report.timeline.layout import PRODUCTION, build_views


def lock(relation, mode, acquired, released):
    return {"relation": relation, "mode": mode, "acquired_ms": acquired, "released_ms": released}


def observed(locks, ms, held):
    return {"locks": [{"relation": r, "mode": m} for r, m in locks], "duration_ms": ms / 10,
            "predicted_ms": {"rows": 1_000_000, "ms": ms}, "predicted_lock_held_ms": held}


DOCUMENT = {
    "verdict": "fail",
    "migrations": [
        {"path": "m/1.sql", "statements": [
            {"index": 0, "line": 1, "sql": "ALTER TABLE a ALTER x TYPE bigint", "rewrites": ["public.a"],
             "findings": [{"rule": "MS095", "name": "over-budget", "severity": "error", "message": "too long"}],
             "observed": observed([("public.a", "AccessExclusiveLock")], 3000, {"public.a": 3500})},
            {"index": 1, "line": 2, "sql": "CREATE INDEX ON a (y)", "findings": [],
             "observed": observed([("public.a", "ShareLock")], 500, {"public.a": 500})}]},
        {"path": "m/2.sql", "statements": [
            {"index": 0, "line": 1, "sql": "VACUUM b", "findings": [],
             "observed": observed([("public.b", "ShareUpdateExclusiveLock")], 100, {"public.b": 100})}]},
        {"path": "m/3.sql", "statements": [
            {"index": 0, "line": 1, "sql": "CREATE INDEX ON a (z)", "findings": [],
             "observed": observed([("public.a", "ShareLock")], 200, {"public.a": 200})}]},
    ],
    "replay": {
        "server": "PostgreSQL 18", "sizes": [10000], "production_rows": {"default": 1_000_000, "tables": {}},
        "timeline": [{"size": 10000, "migrations": [
            {"path": "m/1.sql", "started_ms": 0, "duration_ms": 400, "statements": [
                {"index": 0, "start_ms": 10, "end_ms": 300, "rehearsal_start_ms": 1,
                 "locks": [lock("public.a", "AccessExclusiveLock", 10, 390)]},
                {"index": 1, "start_ms": 300, "end_ms": 380, "locks": [lock("public.a", "ShareLock", 300, 390)]}],
             "probes": [{"table": "public.a", "kind": "read", "samples": [[5, 0.5, 0], [20, 370, 1]]}]},
            {"path": "m/2.sql", "started_ms": 500, "duration_ms": 20, "statements": [
                {"index": 0, "start_ms": 1, "end_ms": 19, "locks": [lock("public.b", "ShareUpdateExclusiveLock", 1, 19)]}],
             "probes": []},
            {"path": "m/3.sql", "started_ms": 600, "duration_ms": 30, "statements": [
                {"index": 0, "start_ms": 2, "end_ms": 28, "locks": [lock("public.a", "ShareLock", 2, 28)]}],
             "probes": []},
        ]}],
    },
}


def test_a_view_per_size_and_one_at_production_size():
    views = build_views(DOCUMENT)
    assert [v.key for v in views] == ["10000", PRODUCTION]
    measured = {lane.relation: lane for lane in views[0].lanes}
    # The relation whose traffic waited longest comes first.
    assert [lane.relation for lane in views[0].lanes] == ["public.a", "public.b"]
    a = measured["public.a"]
    assert [(s.migration, s.hidden_before) for s in a.segments] == [("m/1.sql", 0), ("m/3.sql", 1)]
    assert [(b.mode, b.lane, b.phase) for b in a.bars] == [
        ("AccessExclusiveLock", 0, "rewrite"), ("ShareLock", 1, ""), ("ShareLock", 0, "")]
    assert a.bars[0].rehearsal_start_ms == 1 and a.bars[0].held_ms == 380
    assert a.latency[("read", "m/1.sql")] == [(5.0, 0.5, 0), (20.0, 370.0, 1)]


def test_at_production_size_statements_run_end_to_end_and_queries_wait_for_conflicting_locks():
    production = build_views(DOCUMENT)[1]
    a = next(lane for lane in production.lanes if lane.relation == "public.a")
    first, second, third = a.bars
    assert (first.start_ms, first.end_ms, first.run_end_ms) == (0, 3500, 3000)
    assert (second.start_ms, second.end_ms) == (3000, 3500)
    assert (third.migration, third.start_ms, third.end_ms) == ("m/3.sql", 0, 200)
    reads = a.latency[("read", "m/1.sql")]
    assert max(ms for _, ms, _ in reads) == 1.0 + 3500  # a read arriving as the rewrite starts waits it out
    writes_in_3 = a.latency[("write", "m/3.sql")]
    assert max(ms for _, ms, _ in writes_in_3) == 1.0 + 200  # ShareLock blocks writes
    assert max(ms for _, ms, _ in a.latency[("read", "m/3.sql")]) == 1.0  # not reads


def test_the_page_draws_one_bar_per_lock_and_names_the_findings():
    page = render_html(DOCUMENT)
    assert page.count('class="bar"') == 4 + 4
    assert page.count('data-view="production" x=') == 4
    assert "MS095 over-budget" in page and "ALTER TABLE a ALTER x TYPE bigint" in page
    assert "1 migration that did not lock public.a, left out" in page


def test_the_comment_charts_only_locks_that_block_reads_or_writes(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1.sql").write_text("ALTER TABLE a ALTER x TYPE bigint;\nCREATE INDEX ON a (y);\n")
    (folder / "2.sql").write_text("VACUUM b;\n")
    (tmp_path / "schema.sql").write_text("CREATE TABLE a (x int, y int);\nCREATE TABLE b (x int);\n")
    report = run([str(folder)], Config(schema=[str(tmp_path / "schema.sql")]))
    by_path = {m["path"].rsplit("/", 1)[-1]: m for m in DOCUMENT["migrations"]}
    for result in report.results:
        statements = by_path[result.migration.path.rsplit("/", 1)[-1]]["statements"]
        for analysed, entry in zip(result.statements, statements):
            analysed.observed = entry["observed"]
    chart = gantt_chart(list(report.results))
    assert chart[2:4] == ["```mermaid", "gantt"]
    tasks = [line.strip() for line in chart if " :" in line]
    assert tasks == ["AccessExclusiveLock 1.sql line 1 :crit, 0, 3500", "ShareLock 1.sql line 2 :active, 3000, 3500"]
    assert "public.b" not in "\n".join(chart)  # VACUUM's lock blocks neither
    assert "```mermaid" in render_markdown(report)
