"""node-pg-migrate SQL migrations: the up section only, all pending migrations in one transaction."""
import json
from pathlib import Path

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from project_files import write

LAYOUT = Path(__file__).parent / "layouts" / "node-pg-migrate"
CREATE = "-- Up Migration\nCREATE TABLE t (id int PRIMARY KEY, v text);\n-- Down Migration\nDROP TABLE t;\n"


def serious(report):
    return [(Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
            if f.severity != "info"]


def test_sample_project_reads_up_sections_and_reports_code_migrations():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    migrations = [r.migration for r in report.results]
    assert [Path(m.path).name for m in migrations] == [
        "1704067200000_create-accounts.sql", "1704153600000_email-index.sql", "1704240000000_widen-email.sql"]
    assert {m.format for m in migrations} == {"node-pg-migrate"}
    assert all(m.in_transaction for m in migrations)
    # The down sections (DROP TABLE, DROP INDEX, narrowing back) are never analysed.
    assert all("Down Migration" not in m.text and "DROP" not in m.text for m in migrations)
    assert migrations[1].statements[0].line == 2
    assert serious(report) == [("1704153600000_email-index.sql", "MS001")]
    assert [(f.rule, Path(f.path).name) for f in report.findings] == [("MS086", "1704326400000_backfill.js")]
    assert [Path(p).name for p in report.skipped] == ["1704326400000_backfill.js"]


def test_cli_json_names_the_format(capsys):
    assert main(["check", str(LAYOUT), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {m["format"] for m in out["migrations"]} == {"node-pg-migrate"}


def test_concurrently_cannot_leave_the_transaction_in_an_sql_file(tmp_path):
    write(tmp_path, {
        "migrations/1_t.sql": CREATE,
        "migrations/2_i.sql": "-- Up Migration\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n-- Down Migration\n",
    })
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [f.rule for f in report.results[1].all_findings() if f.severity == "error"] == ["MS004"]
    (refused,) = [f for f in report.results[1].all_findings() if f.rule == "MS004"]
    assert "pgm.noTransaction()" in refused.fix


def test_markers_are_matched_as_node_pg_migrate_matches_them(tmp_path):
    write(tmp_path, {
        "migrations/1_t.sql": CREATE,
        # Down before up, any case, extra dashes: the up part runs from its marker to the end.
        "migrations/2_a.sql": "--- DOWN MIGRATION\nDROP TABLE t;\n\n  --up   migration\nALTER TABLE t ADD COLUMN w text;\n",
    })
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    second = report.results[1].migration
    assert [s.sql for s in second.statements] == ["ALTER TABLE t ADD COLUMN w text"]
    assert second.statements[0].line == 5
    assert serious(report) == []


def test_without_an_up_marker_the_whole_file_runs(tmp_path):
    write(tmp_path, {
        "migrations/1_t.sql": CREATE,
        "migrations/2_b.sql": "ALTER TABLE t ADD COLUMN w text;\n-- Down Migration\nDROP TABLE t;\n",
    })
    report = run([str(tmp_path / "migrations")], Config(format="node-pg-migrate", lock_timeout="2s"))
    second = report.results[1]
    # node-pg-migrate sends the whole file up, down part included: the DROP runs forward.
    assert [s.statement.sql for s in second.statements] == ["ALTER TABLE t ADD COLUMN w text", "DROP TABLE t"]
    assert ("2_b.sql", "MS043") in serious(report)


def test_fix_and_plan_say_an_sql_file_cannot_opt_out(tmp_path):
    import shutil

    import pytest

    from migrasafe.plan.errors import PlanError
    from migrasafe.plan.fix import plan_fixes
    from migrasafe.plan.planner import prepare

    shutil.copytree(LAYOUT, tmp_path / "project")
    folder = tmp_path / "project" / "migrations"
    fixes = plan_fixes([str(folder / "1704153600000_email-index.sql")], Config(lock_timeout="2s"))
    assert fixes.changes == []
    assert len(fixes.notes) == 1 and "pgm.noTransaction()" in fixes.notes[0]
    with pytest.raises(PlanError, match="pgm.noTransaction"):
        prepare(str(folder), "add-index", {"columns": "accounts.email,id"}, Config())
    prepared = prepare(str(folder), "add-check", {"table": "accounts", "expression": "email <> ''"}, Config())
    assert prepared.blocking == []
    main_text = prepared.migrations[0].files[0].text
    assert main_text.startswith("-- Up Migration\n") and "\n-- Down Migration\n" in main_text


def test_no_single_transaction_is_a_configuration_of_the_scope(tmp_path):
    write(tmp_path, {
        "migrations/1_t.sql": CREATE,
        "migrations/2_u.sql": "-- Up Migration\nCREATE TABLE u (id int PRIMARY KEY);\n",
        "migrations/3_a.sql": "-- Up Migration\nALTER TABLE t ADD COLUMN w text;\nALTER TABLE u ADD COLUMN w text;\n",
    })
    named = [str(tmp_path / "migrations" / n) for n in ("2_u.sql", "3_a.sql")]
    shared = run(named, Config(lock_timeout="2s"))
    assert shared.results[-1].migration.meta.get("shared_transaction") is True
    # `node-pg-migrate up --no-single-transaction`: each migration commits on its own.
    own = run(named, Config(lock_timeout="2s", transaction_scope={"node-pg-migrate": "file"}))
    assert own.results[-1].migration.in_transaction is True
    assert not own.results[-1].migration.meta.get("shared_transaction")
