"""Supabase CLI histories: timestamped files, pipelined batches per file, seed.sql is data."""
import json
import uuid
from pathlib import Path

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from project_files import write

LAYOUT = Path(__file__).parent / "layouts" / "supabase"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "mckaywrigley__chatbot-ui"


def serious(report):
    return [(Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
            if f.severity != "info"]


def test_sample_project_from_its_root():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    migrations = [r.migration for r in report.results]
    assert [Path(m.path).name for m in migrations] == [
        "20240101000000_create_accounts.sql", "20240102000000_email_index.sql",
        "20240102120000_email_id_index.sql", "20240103000000_widen_email.sql"]
    assert {m.format for m in migrations} == {"supabase"}
    # One statement each, in the CLI's batch with the history row; the lone CONCURRENTLY runs on its own.
    assert [m.in_transaction for m in migrations] == [True, True, False, True]
    assert serious(report) == [("20240102000000_email_index.sql", "MS001")]
    assert report.findings == []
    skipped = {Path(p).name: why for p, why in report.skipped.items()}
    assert skipped == {
        "cleanup.sql": "the Supabase CLI runs only files named <timestamp>_<name>.sql",
        "seed.sql": "seed data that `supabase db reset` loads after the migrations, not a migration",
    }


def test_cli_json_names_the_format(capsys):
    assert main(["check", str(LAYOUT), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {m["format"] for m in out["migrations"]} == {"supabase"}
    assert {Path(s["path"]).name for s in out["skipped"]} == {"cleanup.sql", "seed.sql"}


def _batches_project(tmp_path):
    return write(tmp_path, {
        "supabase/config.toml": 'project_id = "x"\n',
        "supabase/migrations/20240101000000_t.sql": "CREATE TABLE t (id int PRIMARY KEY, v text, n int);\n"
                                                    "CREATE TABLE u (id int PRIMARY KEY);",
        "supabase/migrations/20240102000000_two.sql": "ALTER TABLE t ADD COLUMN w text;\nCREATE INDEX CONCURRENTLY t_v ON t (v);",
        "supabase/migrations/20240103000000_alone.sql": "CREATE INDEX CONCURRENTLY t_w ON t (w);",
        "supabase/migrations/20240104000000_runs.sql": (
            "ALTER TABLE t ADD CONSTRAINT t_n CHECK (n > 0) NOT VALID;\nUPDATE t SET n = 1 WHERE n IS NULL;\n"
            "DROP INDEX CONCURRENTLY t_w;\nALTER TABLE t ADD COLUMN x int;\nALTER TABLE u ADD COLUMN y int;\n"
            "VACUUM t;\nCREATE DATABASE other;"),
    })


def test_current_cli_runs_concurrently_on_its_own_and_batches_the_rest(tmp_path):
    """CLI 2.109 and later: pipeline-incompatible statements leave the batch; the statements
    between them are each one implicit transaction."""
    report = run([str(_batches_project(tmp_path))], Config(lock_timeout="2s"))
    by_name = {Path(r.migration.path).name: r for r in report.results}
    assert [f.rule for f in by_name["20240102000000_two.sql"].all_findings() if f.severity == "error"] == []
    assert [f.rule for f in by_name["20240103000000_alone.sql"].all_findings() if f.severity == "error"] == []
    runs = by_name["20240104000000_runs.sql"]
    assert runs.migration.in_transaction is False
    assert [s.in_transaction for s in runs.statements] == [True, True, False, True, True, False, True]
    errors = {(f.rule, f.line) for f in runs.all_findings() if f.severity == "error"}
    # The UPDATE runs in the batch that holds the ADD CONSTRAINT's ACCESS EXCLUSIVE lock; the DROP
    # INDEX CONCURRENTLY flushed that batch, so the next ALTERs start a new one; CREATE DATABASE is
    # no pipeline-incompatible statement the CLI knows: it fails in the last batch.
    assert ("MS030", 2) in errors and ("MS004", 7) in errors
    assert ("MS004", 3) not in errors and ("MS004", 6) not in errors
    (refusal,) = [f for f in runs.all_findings() if f.rule == "MS004"]
    assert "the Supabase CLI's batch of line 7" in refusal.message
    (two_tables,) = [f for f in runs.all_findings() if f.rule == "MS031"]
    assert two_tables.line == 5 and "until the end of the Supabase CLI's batch of lines 4-5" in two_tables.lock


def test_older_cli_is_chosen_in_the_configuration_and_refuses_every_concurrently(tmp_path):
    """CLI up to 2.108: one pgx batch per file, where CONCURRENTLY fails even alone."""
    report = run([str(_batches_project(tmp_path))], Config(lock_timeout="2s", transaction={"supabase": True}))
    refused = sorted((Path(r.migration.path).name, f.line) for r in report.results for f in r.all_findings()
                     if f.rule == "MS004")
    assert refused == [("20240102000000_two.sql", 2), ("20240103000000_alone.sql", 1),
                       ("20240104000000_runs.sql", 3), ("20240104000000_runs.sql", 6),
                       ("20240104000000_runs.sql", 7)]
    alone = next(r for r in report.results if r.migration.path.endswith("_alone.sql"))
    assert alone.migration.in_transaction is True and "up to 2.108" in alone.migration.transaction_reason
    (refusal,) = [f for f in alone.all_findings() if f.rule == "MS004"]
    assert "2.109 and later run" in refusal.fix


def test_legacy_init_file_and_configured_seed_paths_are_skipped(tmp_path):
    write(tmp_path, {
        "supabase/config.toml": 'project_id = "x"\n\n[db.seed]\nsql_paths = ["./seeds/*.sql"]\n',
        "supabase/seeds/users.sql": "INSERT INTO t VALUES (1);",
        "supabase/migrations/20211101000000_init.sql": "DROP SCHEMA public CASCADE;",
        "supabase/migrations/20240101000000_t.sql": "CREATE TABLE t (id int);",
    })
    report = run([str(tmp_path)], Config())
    assert [Path(r.migration.path).name for r in report.results] == ["20240101000000_t.sql"]
    reasons = {Path(p).name: why for p, why in report.skipped.items()}
    assert reasons["20211101000000_init.sql"].startswith("the Supabase CLI skips a first <timestamp>_init.sql")
    assert "seed data" in reasons["users.sql"]


def test_a_config_toml_of_another_tool_does_not_make_a_supabase_project(tmp_path):
    write(tmp_path, {
        "config.toml": '[server]\nport = 8080\n',
        "migrations/1_t.up.sql": "CREATE TABLE t (id int);",
        "migrations/1_t.down.sql": "DROP TABLE t;",
    })
    report = run([str(tmp_path)], Config())
    assert [r.migration.format for r in report.results] == ["golang-migrate"]


def test_a_batch_accepts_concurrently_only_as_its_first_statement(pg_server):
    """What pgx's ExecBatch sends (Parse/Bind/Execute for each statement, one Sync at the end),
    reproduced with psycopg's pipeline: everything after the first statement shares one implicit
    transaction block. (The CLI up to 2.108 was reported to refuse a lone CONCURRENTLY as well,
    which the configured older model follows.)"""
    with psycopg.connect(pg_server.uri, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS batch_probe; CREATE TABLE batch_probe (x int)")

    def batch(*statements):
        with psycopg.connect(pg_server.uri, autocommit=True) as conn:
            with conn.pipeline():
                cursor = conn.cursor()
                for statement in statements:
                    cursor.execute(statement)

    def concurrently():
        return f"CREATE INDEX CONCURRENTLY probe_{uuid.uuid4().hex[:8]} ON batch_probe (x)"

    history_row = "SELECT 'history row'"
    batch(concurrently(), history_row)  # alone in its file: accepted
    with pytest.raises(psycopg.errors.ActiveSqlTransaction):
        batch("SELECT 1", concurrently(), history_row)


def test_real_history_from_its_project_root():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus project not found at {CORPUS}")
    report = run([str(CORPUS)], Config())
    on_disk = sorted((CORPUS / "migrations" / "supabase" / "migrations").glob("*.sql"))
    read = [r.migration for r in report.results]
    assert len(read) == len(on_disk) == 25
    assert {m.format for m in read} == {"supabase"}
    assert not [f for f in report.findings if f.rule in ("MS099", "MS088")]
    rules = {Path(r.migration.path).name[:14]: {f.rule for f in r.all_findings() if f.severity != "info"}
             for r in report.results}
    for dangerous in ("20240212063532", "20240115135033", "20240118224049", "20240302004845", "20240129232644",
                      "20240213040255"):
        assert rules[dangerous], dangerous
    assert "MS042" in rules["20240213040255"]  # drops a column the previous release reads
    assert "MS033" in rules["20240125192042"]  # unbatched UPDATEs
    # Tables created with their indexes in the same file: no index finding.
    for created in [f"202401082345{n}" for n in range(41, 52)]:
        assert not rules[created] & {"MS001", "MS002"}, created
    # ADD COLUMN ... NOT NULL DEFAULT <constant>: no rewrite (a lock_timeout warning is deserved).
    for metadata_only in ("20240124234424", "20240213085646"):
        assert rules[metadata_only] <= {"MS032"}, metadata_only


def test_fix_moves_concurrently_into_its_own_migration(tmp_path):
    import shutil

    from migrasafe.plan.fix import apply_fixes, plan_fixes

    shutil.copytree(LAYOUT, tmp_path / "project")
    migrations = tmp_path / "project" / "supabase" / "migrations"
    target = migrations / "20240102000000_email_index.sql"
    target.write_text("ALTER TABLE accounts ADD COLUMN note text;\nCREATE INDEX accounts_email_idx ON accounts (email);\n")
    fixes = plan_fixes([str(target)], Config())
    new = [c.path.name for c in fixes.changes if c.new]
    assert new == ["20240102000001_email_index_accounts_email_idx_concurrently.sql"]
    assert fixes.remaining == []
    apply_fixes(fixes)
    report = run([str(tmp_path / "project")], Config(lock_timeout="2s"))
    assert serious(report) == []
    assert [Path(p).name for p in report.skipped] == ["cleanup.sql", "seed.sql"]
