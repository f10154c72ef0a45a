"""Alembic revisions as a source: the fixture project in tests/alembic_project, rendered offline.

Its env.py raises if it runs, so every test here also shows that env.py never runs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.report.text import render_text
from migrasafe.sources import read_migrations

PROJECT = Path(__file__).resolve().parent / "alembic_project"
VERSIONS = PROJECT / "migrations" / "versions"
UPGRADE_ORDER = ["a1c0ffee0001", "b2c0ffee0002", "d4c0ffee0004", "c3c0ffee0003", "e5c0ffee0005",
                 "f6c0ffee0006", "a7c0ffee0007", "b8c0ffee0008"]


def revision_file(rev: str) -> Path:
    return next(VERSIONS.glob(f"{rev}_*.py"))


@pytest.fixture(scope="module")
def report():
    return run([str(PROJECT)], Config())


def result_of(report, rev: str):
    return next(r for r in report.results if r.migration.version == rev)


def statements_of(report, rev: str) -> list[tuple[int, int, str]]:
    return [(a.statement.line, a.statement.column, a.statement.sql) for a in result_of(report, rev).statements]


def rules_at(report, rev: str) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line) for f in result_of(report, rev).all_findings())


# --- finding the project and its revisions ------------------------------------------------------


@pytest.mark.parametrize("given", [PROJECT, PROJECT / "migrations"])
def test_project_folder_and_script_location_are_read_as_alembic(given):
    migrations, findings = read_migrations([str(given)], Config())
    assert findings == []
    assert [m.version for m in migrations] == UPGRADE_ORDER
    assert {m.format for m in migrations} == {"alembic"}
    assert all(m.meta["revision"] == m.version and not m.meta["context"] for m in migrations)
    assert len({m.meta["history"] for m in migrations}) == 1


def test_found_below_a_folder_that_holds_it():
    migrations, findings = read_migrations([str(PROJECT.parent)], Config(format="alembic"))
    # tests/layouts/ holds other Alembic projects, found too: this one's revisions keep their order.
    ours = [m for m in migrations if Path(m.meta["file"]).resolve().is_relative_to(PROJECT.resolve())]
    assert findings == [] and [m.version for m in ours] == UPGRADE_ORDER


def test_revision_paths_are_spelled_from_the_users_path(report):
    paths = {r.migration.version: r.migration.path for r in report.results}
    assert paths["b2c0ffee0002"] == str(revision_file("b2c0ffee0002"))


def test_upgrade_order_follows_the_graph(report):
    order = [r.migration.version for r in report.results]
    assert order.index("e5c0ffee0005") > max(order.index("c3c0ffee0003"), order.index("d4c0ffee0004"))
    merge = result_of(report, "e5c0ffee0005").migration
    assert merge.meta["down_revisions"] == ["c3c0ffee0003", "d4c0ffee0004"] and merge.statements == []


def test_application_modules_import_from_the_project_root(report):
    create_type = next(sql for _, _, sql in statements_of(report, "a1c0ffee0001") if sql.startswith("CREATE TYPE"))
    assert create_type == "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped')"
    # The application is imported by the child process that renders the revisions, never here.
    assert str(PROJECT) not in sys.path and "shopapp" not in sys.modules


# --- rendering, and where each statement came from -------------------------------------------------


def test_each_statement_is_on_its_op_call(report):
    assert statements_of(report, "b2c0ffee0002") == [
        (14, 5, "CREATE INDEX orders_customer_idx ON orders (customer_id)"),
        (15, 5, "ALTER TABLE orders RENAME note TO customer_note"),
    ]


def test_a_multi_line_call_spans_its_lines(report):
    first = result_of(report, "a1c0ffee0001").statements[0].statement
    assert (first.line, first.end_line) == (18, 23) and first.sql.startswith("CREATE TABLE customers")
    assert "created_at TIMESTAMP WITH TIME ZONE DEFAULT now()" in first.sql


def test_enum_type_bulk_insert_and_raw_sql_render(report):
    a1 = statements_of(report, "a1c0ffee0001")
    assert [sql.split(" (")[0] for _, _, sql in a1] == [
        "CREATE TABLE customers", "CREATE TYPE order_status AS ENUM", "CREATE TABLE orders",
        "CREATE INDEX orders_status_idx ON orders", "INSERT INTO customers",
    ]
    assert a1[-1] == (33, 5, "INSERT INTO customers (id, name) VALUES (1, 'first customer')")
    a7 = statements_of(report, "a7c0ffee0007")
    assert [(line, sql.split()[0]) for line, _, sql in a7[:2]] == [(17, "CREATE"), (17, "ANALYZE")]


def test_batch_operations_keep_their_own_lines(report):
    assert statements_of(report, "c3c0ffee0003") == [
        (16, 9, "ALTER TABLE customers ADD COLUMN email TEXT"),
        (17, 9, "ALTER TABLE customers ADD COLUMN vip BOOLEAN DEFAULT false NOT NULL"),
        (18, 5, "UPDATE customers SET email = name || '@example.com'"),
        (19, 5, "ALTER TABLE customers ALTER COLUMN email SET NOT NULL"),
    ]


def test_autocommit_block_runs_outside_the_transaction(report):
    d4 = result_of(report, "d4c0ffee0004")
    shape = [(a.statement.line, a.statement.sql.split(" ON ")[0], a.in_transaction) for a in d4.statements]
    assert shape == [
        (15, "ALTER TABLE orders ADD COLUMN placed_at TIMESTAMP WITH TIME ZONE DEFAULT now()", True),
        (16, "COMMIT", True),
        (17, "CREATE INDEX CONCURRENTLY orders_placed_at_idx", False),
        (16, "BEGIN", False),
    ]
    assert d4.statements[2].statement.sql.endswith("WHERE status <> 'shipped'")
    assert d4.all_findings() == []


def test_postgresql_using_renders_and_the_rewrite_is_found(report):
    f6 = statements_of(report, "f6c0ffee0006")
    assert (15, 5, "ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(12, 2) USING total::numeric(12,2)") in f6
    assert ("MS011", 15) in rules_at(report, "f6c0ffee0006")


# --- findings ---------------------------------------------------------------------------------------


def test_dangerous_operations_are_found_on_their_lines(report):
    assert {("MS001", 14), ("MS040", 15)} <= set(rules_at(report, "b2c0ffee0002"))
    # email is added in the same revision: NOT NULL on it is MS045's (its scan said there), not MS024's too.
    assert {("MS045", 19), ("MS030", 18)} <= set(rules_at(report, "c3c0ffee0003"))
    assert ("MS021", 30) in rules_at(report, "a7c0ffee0007")


def test_lock_timeout_set_in_env_py_counts_for_every_revision(report):
    assert not [f for f in report.all_findings() if f.rule == "MS032"]
    setup = result_of(report, "a1c0ffee0001").migration.meta["session_setup"]
    assert [(s.sql, s.line) for s in setup] == [("SET lock_timeout = '3s'", 11)]


def test_python_comment_suppresses_the_finding_on_the_next_call(report):
    assert ("MS001", 29) not in rules_at(report, "a7c0ffee0007")
    assert not [f for f in report.all_findings() if f.rule in ("MS092", "MS093")]


def test_reading_the_database_is_reported_and_the_rest_still_checked(report):
    f6 = result_of(report, "f6c0ffee0006")
    notes = [(f.line, f.message) for f in f6.findings if f.rule == "MS096"]
    assert [line for line, _ in notes] == [18, 20]
    assert "as if the query returned none" in notes[0][1]
    assert "reads the result of a query (.scalar)" in notes[1][1] and "checked only up to this line" in notes[1][1]
    # The UPDATE inside the loop over rows is not rendered; the ALTER SEQUENCE after .scalar() neither.
    assert not [sql for _, _, sql in statements_of(report, "f6c0ffee0006") if sql.startswith(("UPDATE", "ALTER SEQ"))]


def test_an_operation_from_a_missing_plugin_is_reported_and_skipped(report):
    b8 = result_of(report, "b8c0ffee0008")
    (note,) = [f for f in b8.findings if f.rule == "MS096"]
    assert note.line == 15 and note.severity == "info"
    assert "op.sync_enum_values()" in note.message and "alembic_enum_sync_plugin" in note.message
    assert ("MS042", 21) in rules_at(report, "b8c0ffee0008")


def test_locks_of_earlier_revisions_are_held_in_the_one_transaction():
    # --from names the revision the database is at: the ones after it run as one upgrade.
    report = run([str(PROJECT)], Config(alembic={"from": "a1c0ffee0001"}))
    f6 = result_of(report, "f6c0ffee0006")
    assert f6.migration.meta["shared_transaction"] is True
    assert "whole upgrade in one transaction" in f6.migration.transaction_reason
    # The ADD COLUMN only touches the catalog (info); the rewrite keeps both tables blocked (warning).
    assert [f.severity for f in f6.all_findings() if f.rule == "MS031"] == ["info", "warning"]
    (multiple,) = [f for f in f6.all_findings() if f.rule == "MS031" and f.severity == "warning"]
    assert "public.customers" in multiple.message  # locked by c3c0ffee0003, still held
    assert "transaction_per_migration=True" in multiple.fix


def test_a_whole_history_is_checked_one_upgrade_per_revision(report):
    # Applied over many deploys: no revision holds the locks of one from years before.
    f6 = result_of(report, "f6c0ffee0006")
    assert "session" not in f6.migration.meta
    assert "each revision is checked as its own upgrade" in f6.migration.transaction_reason
    assert "MS031" not in {f.rule for f in f6.all_findings()}


def test_transaction_per_migration_from_the_configuration():
    config = Config(alembic={"transaction_per_migration": True})
    report = run([str(PROJECT)], config)
    f6 = result_of(report, "f6c0ffee0006")
    assert "each revision in its own transaction" in f6.migration.transaction_reason
    assert "MS031" not in {f.rule for f in f6.all_findings()}


# --- what is checked ----------------------------------------------------------------------------


def test_a_single_revision_is_checked_after_the_ones_it_builds_on():
    report = run([str(revision_file("c3c0ffee0003"))], Config())
    assert [(r.migration.version, r.migration.meta["context"]) for r in report.results] == [
        ("a1c0ffee0001", True), ("b2c0ffee0002", True), ("c3c0ffee0003", False),
    ]
    assert "MS045" in {f.rule for f in result_of(report, "c3c0ffee0003").all_findings()}


def test_from_and_to_select_a_range():
    report = run([str(PROJECT)], Config(alembic={"from": "e5c0ffee0005", "to": "a7c0"}))
    reported = [r.migration.version for r in report.results if not r.migration.meta["context"]]
    assert reported == ["f6c0ffee0006", "a7c0ffee0007"]
    assert "b8c0ffee0008" not in [r.migration.version for r in report.results]


def test_unknown_revision_in_a_range_is_an_input_error(capsys):
    assert main(["check", str(PROJECT), "--from", "nope"]) == 2
    out = capsys.readouterr().out
    assert "--from nope: Can't locate revision identified by 'nope'" in out


def test_a_file_of_the_project_that_is_no_revision_is_an_input_error():
    migrations, findings = read_migrations([str(PROJECT / "migrations" / "env.py")], Config())
    assert migrations == [] and [f.rule for f in findings] == ["MS099"]
    assert "not an Alembic revision" in findings[0].message


# --- output --------------------------------------------------------------------------------------


def test_json_points_at_the_revision_and_its_lines(capsys):
    code = main(["check", str(revision_file("b2c0ffee0002")), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (migration,) = data["migrations"]
    assert migration["format"] == "alembic" and migration["revision"] == "b2c0ffee0002"
    assert migration["in_transaction"] is True
    assert [(s["line"], s["column"], [f["rule"] for f in s["findings"]]) for s in migration["statements"]] == [
        (14, 5, ["MS001"]), (15, 5, ["MS040"]),
    ]


def test_text_names_the_revision(report):
    text = render_text(report)
    assert f"{revision_file('b2c0ffee0002')}:15:5: MS040 rename-column [error] in revision b2c0ffee0002" in text
    assert "with op.get_context().autocommit_block():" in text  # MS001's fix, in Alembic's terms


def test_source_format_alembic_is_offered_and_exits_1_on_the_fixture(capsys):
    assert main(["check", str(PROJECT), "--source-format", "alembic"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "verdict: fail" in captured.out


def test_alembic_dir_names_the_script_location(capsys):
    assert main(["check", str(PROJECT / "migrations"), "--alembic-dir", str(PROJECT / "migrations")]) == 1
    assert "in 8 migrations" in capsys.readouterr().out
    assert main(["check", "x", "--alembic-dir", str(PROJECT / "nowhere")]) == 2
    assert "--alembic-dir" in capsys.readouterr().err


def test_revisions_named_together_are_checked_in_upgrade_order():
    files = [revision_file("d4c0ffee0004"), revision_file("b2c0ffee0002")]
    report = run([str(f) for f in files], Config())
    assert [(r.migration.version, r.migration.meta["context"]) for r in report.results] == [
        ("a1c0ffee0001", True), ("b2c0ffee0002", False), ("d4c0ffee0004", False),
    ]
    assert report.findings == []
