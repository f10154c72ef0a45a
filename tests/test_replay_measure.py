"""What a replay observes, on embedded PostgreSQL 18: blocking, rewrites, failures, the JSON."""
from __future__ import annotations

import json

import pytest

from migrasafe.replay.extrapolate import fit, predict
from replay_helpers import observed_of, replay, write_migrations

ORDERS = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, name text);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
    note varchar(50),
    quantity integer NOT NULL DEFAULT 1,
    placed_at timestamp NOT NULL DEFAULT now()
);
"""


@pytest.fixture(scope="module")
def replay_server():
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18) as server:
        yield server


def test_create_index_blocks_the_write_probe_and_concurrently_does_not(tmp_path, replay_server):
    plain = write_migrations(tmp_path / "plain", ORDERS, "CREATE INDEX orders_note_idx ON orders (customer_id, note);")
    concurrent = write_migrations(tmp_path / "concurrent", ORDERS,
                                  "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (customer_id, note);")
    blocking = replay(replay_server, [plain], rows=200_000)
    free = replay(replay_server, [concurrent], rows=200_000)

    seen = observed_of(blocking, line=1)
    assert seen["locks"] == [{"relation": "public.orders", "mode": "ShareLock"}]
    writes = seen["blocked_ms"]["public.orders"]["writes"]
    assert writes["max"] > 10 and writes["total"] >= writes["max"]
    assert seen["blocked_ms"]["public.orders"]["reads"]["max"] == 0  # ShareLock lets reads through
    assert seen["duration_ms"] > 10 and seen["lock_held_ms"]["public.orders"] >= seen["duration_ms"]

    seen = observed_of(free, line=1)
    assert seen["locks_sampled"] and {"relation": "public.orders", "mode": "ShareUpdateExclusiveLock"} in seen["locks"]
    assert seen["blocked_ms"]["public.orders"]["writes"] == {"max": 0.0, "total": 0.0}
    assert seen["blocked_ms"]["public.orders"]["reads"] == {"max": 0.0, "total": 0.0}
    assert not [f for f in free.all_findings() if f.rule in ("MS097", "MS098")]


def test_rewriting_type_change_changes_relfilenode_and_varchar_widening_does_not(tmp_path, replay_server):
    folder = write_migrations(tmp_path / "m", ORDERS,
                              "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;\n"
                              "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);\n")
    report = replay(replay_server, [folder], rows=2_000, probes=False)
    rewrite, widening = observed_of(report, line=1), observed_of(report, line=2)
    assert rewrite["rewrites"] == ["public.orders"]
    assert rewrite["locks"] == [{"relation": "public.orders", "mode": "AccessExclusiveLock"}]
    assert widening["rewrites"] == []
    assert widening["locks"] == [{"relation": "public.orders", "mode": "AccessExclusiveLock"}]
    assert not [f for f in report.all_findings() if f.rule == "MS097"]


def test_locks_held_until_commit_and_the_failed_statement_is_reported(tmp_path, replay_server):
    folder = write_migrations(tmp_path / "m", ORDERS, """
BEGIN;
ALTER TABLE orders ADD COLUMN total bigint;
ALTER TABLE orders ADD CONSTRAINT only_paid CHECK (status = 'paid');
UPDATE orders SET total = quantity * 100;
COMMIT;
""")
    report = replay(replay_server, [folder], rows=5_000, probes=False)
    add_column, failing, backfill = observed_of(report, 3), observed_of(report, 4), observed_of(report, 5)
    # The column's AccessExclusiveLock lasts through the backfill, until COMMIT.
    held = add_column["lock_held_ms"]["public.orders"]
    assert held >= add_column["duration_ms"] + backfill["duration_ms"]
    # The seeded statuses break the CHECK: reported, rolled back to its savepoint, the rest ran.
    assert "23514" in failing["error"]
    (finding,) = [f for f in report.all_findings() if f.rule == "MS098"]
    assert finding.line == 4 and finding.severity == "warning"
    assert backfill["rows"] == 5_000 and "error" not in backfill


def test_budgets_judge_the_prediction_at_production_size(tmp_path, replay_server):
    from migrasafe.replay.budget import Budgets

    folder = write_migrations(tmp_path / "m", ORDERS, "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;")
    tight = Budgets(access_exclusive_ms=1.0, blocks_writes_ms=1.0, migration_ms=1.0)
    report = replay(replay_server, [folder], rows=20_000_000, sizes=(5_000, 20_000), probes=False, budgets=tight)
    seen = observed_of(report, line=1)
    predicted = seen["predicted_ms"]
    assert predicted["rows"] == 20_000_000
    # Whatever the two runs measured (that depends on the machine), the prediction is the fit
    # through them carried to production size; the fit itself is tested on fixed figures below.
    assert [rows for rows, _ in predicted["fit"]["points"]] == [5_000, 20_000]
    assert predicted["fit"]["growth"] == "linear"
    again = fit([tuple(point) for point in predicted["fit"]["points"]], "linear")
    assert predicted["ms"] == pytest.approx(again.predict(20_000_000), rel=1e-3, abs=1e-3)
    over = [f for f in report.results[-1].all_findings() if f.rule == "MS095"]
    assert {f.severity for f in over} == {"error"} and len(over) == 2  # the lock, and the whole migration
    assert any("AccessExclusiveLock on public.orders would be held" in f.message for f in over)
    relaxed = replay(replay_server, [folder], rows=20_000_000, sizes=(5_000, 20_000), probes=False,
                     budgets=Budgets(access_exclusive_ms=1e9, blocks_writes_ms=1e9, migration_ms=1e9))
    assert not [f for f in relaxed.all_findings() if f.rule == "MS095"]


def test_a_rewrite_measured_at_two_sizes_is_carried_to_production_size():
    """The figures the budgets test gets from its two runs, fixed: a rewrite of 5,000 and 20,000
    rows, predicted at 20,000,000 rows, is about 1,000 times the larger run."""
    points = [(5_000, 4.0), (20_000, 13.0)]  # 1 ms fixed, 0.6 ms per thousand rows
    ms, model = predict(points, 20_000_000, "linear")
    assert model.kind == "fit" and model.fixed_ms == pytest.approx(1.0) and model.per_row_ms == pytest.approx(6e-4)
    assert ms == pytest.approx(1.0 + 6e-4 * 20_000_000)
    assert ms > 13.0 * 900
    # Noise that makes the larger run the faster one is not extrapolated at all.
    ms, model = predict([(5_000, 13.0), (20_000, 4.0)], 20_000_000, "linear")
    assert model.kind == "constant" and ms == pytest.approx(8.5)


def test_json_report_carries_observed_and_the_replay(tmp_path, replay_server):
    from migrasafe.report import render

    folder = write_migrations(tmp_path / "m", ORDERS, "CREATE INDEX orders_status_idx ON orders (status);")
    report = replay(replay_server, [folder], rows=3_000, sizes=(1_000, 2_000))
    data = json.loads(render(report, "json"))
    statement = data["migrations"][-1]["statements"][0]
    observed = statement["observed"]
    assert {"locks", "rewrites", "duration_ms", "lock_held_ms", "blocked_ms", "predicted_ms"} <= set(observed)
    assert observed["predicted_ms"]["rows"] == 3_000 and observed["predicted_ms"]["ms"] > 0
    assert observed["predicted_ms"]["fit"]["growth"] == "n log n"
    assert [p[0] for p in observed["predicted_ms"]["fit"]["points"]] == [1_000, 2_000]
    assert data["replay"]["sizes"] == [1_000, 2_000] and data["replay"]["server_major"] == 18
    text = render(report, "text")
    assert "replay: PostgreSQL 18" in text and "ShareLock on public.orders held" in text


def test_a_statement_that_blocks_writes_is_rehearsed_and_one_that_does_not_runs_once(tmp_path, replay_server):
    folder = write_migrations(tmp_path / "m", ORDERS, "ALTER TABLE orders ADD COLUMN c int;\nANALYZE orders;\n"
                                                      "ALTER TABLE orders ADD CONSTRAINT positive CHECK (quantity > 0) NOT VALID;\n"
                                                      "ALTER TABLE orders VALIDATE CONSTRAINT positive;\n")
    report = replay(replay_server, [folder], rows=2_000, probes=False, repeat=3)
    (timeline,) = [m for m in report.replay["timeline"][0]["migrations"] if m["path"].endswith("002_step.sql")]
    rehearsed = {entry["index"]: "rehearsal_start_ms" in entry for entry in timeline["statements"]}
    assert rehearsed == {0: True, 1: False, 2: True, 3: False}


def test_a_table_is_not_seeded_ahead_across_a_change_of_the_type_its_rows_are_made_of(tmp_path, replay_server):
    setup = ("CREATE TYPE mood AS ENUM ('calm');\n"
             "CREATE TABLE orders (id bigserial PRIMARY KEY, note text);\n"
             "CREATE TABLE feelings (id bigserial PRIMARY KEY, mood mood NOT NULL);\n")
    folder = write_migrations(tmp_path / "m", setup, "ALTER TABLE orders ADD COLUMN c int;\n",
                              "ALTER TYPE mood ADD VALUE 'angry';\n",
                              "ALTER TABLE feelings ADD CONSTRAINT only_calm CHECK (mood = 'calm');\n")
    report = replay(replay_server, [folder], rows=1_000, probes=False)
    # Seeded after the new label was committed, some rows carry it: the constraint fails, as it
    # would on rows made just before the migration that first touches the table.
    assert "23514" in observed_of(report, line=1)["error"]
    unfenced = write_migrations(tmp_path / "u", setup, "ALTER TABLE orders ADD COLUMN c int;\n",
                                "ALTER TABLE feelings ADD CONSTRAINT only_calm CHECK (mood = 'calm');\n")
    assert "error" not in observed_of(replay(replay_server, [unfenced], rows=1_000, probes=False), line=1)


def test_each_migration_runs_in_the_previous_session_reset_to_a_new_sessions_state(tmp_path, replay_server,
                                                                                  monkeypatch):
    from migrasafe.replay.measure import Runner

    opened = []
    original = Runner.open
    monkeypatch.setattr(Runner, "open", lambda self: opened.append(1) or original(self))
    folder = write_migrations(tmp_path / "m", ORDERS,
                              "SET search_path = nowhere;\nCREATE TEMP TABLE scratch (id int);\n",
                              "CREATE TEMP TABLE scratch (id int);\nCREATE TABLE later (id int);\n")
    report = replay(replay_server, [folder], rows=1_000, sizes=(500, 1_000), probes=False)
    # Nothing the migration before left in its session reaches the next: its temporary table and
    # search_path are gone (else these would fail).
    for line in (1, 2):
        assert "error" not in observed_of(report, line=line), line
    assert len(opened) == 2  # one session per size, handed from each migration to the next
