"""Prisma Migrate histories: folder order, migration.sql only, one script per file."""
import json
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from project_files import write

LAYOUT = Path(__file__).parent / "layouts" / "prisma"
MIGRATIONS = LAYOUT / "prisma" / "migrations"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "triggerdotdev__trigger.dev"


def serious(report):
    return [(r.migration.path, f.rule) for r in report.results for f in r.all_findings() if f.severity != "info"]


def project(tmp_path: Path, migrations: dict[str, str], provider: str = "postgresql") -> Path:
    files = {"prisma/migrations/migration_lock.toml": f'provider = "{provider}"\n'}
    files.update({f"prisma/migrations/{name}/migration.sql": sql for name, sql in migrations.items()})
    return write(tmp_path, files)


def test_sample_project_reads_migration_sql_in_folder_order():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    migrations = [r.migration for r in report.results]
    assert [Path(m.path).parent.name for m in migrations] == [
        "20240101000000_init", "20240102000000_email_index", "20240103000000_email_id_index",
        "20240104000000_widen_email"]
    assert {m.format for m in migrations} == {"prisma"}
    assert all(Path(m.path).name == "migration.sql" for m in migrations)  # down.sql never forward
    # One statement per file: the one-statement script runs outside a transaction block.
    assert [m.in_transaction for m in migrations] == [False, False, False, False]
    assert serious(report) == [(migrations[1].path, "MS001")]
    assert report.findings == []
    skipped = {Path(p).name: why for p, why in report.skipped.items()}
    assert set(skipped) == {"notes.sql"}


def test_cli_from_the_project_root_names_the_format(capsys):
    code = main(["check", str(LAYOUT), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {m["format"] for m in out["migrations"]} == {"prisma"}
    assert len(out["migrations"]) == 4


def test_multi_statement_file_is_one_implicit_transaction(tmp_path):
    root = project(tmp_path, {
        "20240101000000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);",
        "20240102000000_two": "ALTER TABLE t ADD COLUMN w text;\nCREATE INDEX CONCURRENTLY t_v ON t (v);",
    })
    report = run([str(root)], Config(lock_timeout="2s"))
    second = report.results[1]
    assert second.migration.in_transaction is True
    assert second.migration.meta["implicit_transaction"] is True
    assert "one script" in second.migration.transaction_reason
    assert [f.rule for f in second.all_findings() if f.severity == "error"] == ["MS004"]


def test_configuration_describes_the_statement_splitting_engine(tmp_path):
    # prisma-engines 5767 (Prisma 7.4+) sends each statement on its own, in autocommit.
    root = project(tmp_path, {
        "20240101000000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);",
        "20240102000000_two": "SELECT 1;\nCREATE INDEX CONCURRENTLY t_v ON t (v);",
    })
    report = run([str(root)], Config(lock_timeout="2s", transaction={"prisma": False}))
    second = report.results[1].migration
    assert second.in_transaction is False
    assert second.transaction_reason == "transaction.prisma = false in the configuration"
    assert serious(report) == []


def test_other_provider_is_skipped_with_the_reason_and_reads_nothing(tmp_path, capsys):
    root = project(tmp_path, {"20240101000000_init": "CREATE TABLE t (id int);"}, provider="mysql")
    report = run([str(root)], Config())
    assert report.results == []
    assert [why for why in report.skipped.values()] == [
        "migration_lock.toml says provider = 'mysql': this history is not run on PostgreSQL"]
    assert [f.rule for f in report.findings] == ["MS099"]
    assert main(["check", str(root)]) == 2


def test_folder_without_migration_sql_is_an_input_error(tmp_path):
    root = project(tmp_path, {"20240101000000_init": "CREATE TABLE t (id int);"})
    write(root, {"prisma/migrations/20240102000000_broken/migrate.sql": "SELECT 1;"})
    report = run([str(root)], Config())
    errors = [f for f in report.findings if f.rule == "MS099"]
    assert len(errors) == 1 and "20240102000000_broken" in errors[0].path
    assert "has no migration.sql" in errors[0].message
    assert len(report.results) == 1  # the other migration is still checked


def test_down_sql_named_alone_is_checked_after_its_migration():
    down = MIGRATIONS / "20240101000000_init" / "down.sql"
    report = run([str(down)], Config(lock_timeout="2s"))
    checked = [r for r in report.results if not r.migration.meta.get("context")]
    assert [Path(r.migration.path).name for r in checked] == ["down.sql"]
    assert [(Path(r.migration.path).parent.name, r.migration.meta["context"]) for r in report.results] == [
        ("20240101000000_init", True), ("20240101000000_init", False)]
    assert {r.migration.format for r in report.results} == {"prisma"}
    # The table it drops is known from the migration before it, so dropping it is a live drop.
    assert [f.rule for f in checked[0].all_findings()] == ["MS043"]


def test_one_migration_named_is_checked_after_the_ones_before_it():
    report = run([str(MIGRATIONS / "20240102000000_email_index")], Config(lock_timeout="2s"))
    assert [(Path(r.migration.path).parent.name, r.migration.meta["context"]) for r in report.results] == [
        ("20240101000000_init", True), ("20240102000000_email_index", False)]
    assert serious(report) == [(report.results[1].migration.path, "MS001")]


def test_real_history_from_its_project_root():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus project not found at {CORPUS}")
    report = run([str(CORPUS)], Config())
    on_disk = sorted(CORPUS.rglob("migration.sql"))
    read = [r.migration for r in report.results]
    assert len(read) == len(on_disk) == 823
    assert {m.format for m in read} == {"prisma"}
    assert len({m.meta["history"] for m in read}) == 2  # the main and the run-ops databases
    assert not [f for f in report.findings if f.rule in ("MS099", "MS088")]
    assert not any(Path(m.path).name == "down.sql" for m in read)
    rules = {}
    for result in report.results:
        name = Path(result.migration.path).parent.name
        rules[name] = {f.rule for f in result.all_findings() if f.severity != "info"}

    def of(prefix):
        (name,) = [n for n in rules if n.startswith(prefix)]
        return rules[name]

    for dangerous, rule in [("20240430110419", "MS001"), ("20240425114134", "MS001"), ("20240806163040", "MS001"),
                            ("20240704170301", "MS002"), ("20240523135511", "MS001"), ("20240625095006", "MS001"),
                            ("20240920085046", "MS020"), ("20240319121124", "MS045"), ("20230105115719", "MS011")]:
        assert rule in of(dangerous), dangerous
    for lone_concurrently in ("20240821135542", "20240909141925", "20250605220110", "20260727120000"):
        assert of(lone_concurrently) == set(), lone_concurrently
    assert of("20221206131204") == set()  # indexes and keys on tables the same file creates
    # NOT VALID keeps the CHECK from scanning; the ADD COLUMNs beside it still lock two tables.
    assert not of("20260810130446") & {"MS020", "MS021"}
    assert "MS032" not in of("20260626140000") and "MS032" not in of("20260710120000")


def copy_layout(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "project"
    shutil.copytree(LAYOUT, target)
    return target / "prisma" / "migrations"


def test_fix_moves_concurrently_into_a_new_migration_folder(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    migrations = copy_layout(tmp_path)
    target = migrations / "20240102000000_email_index" / "migration.sql"
    target.write_text("-- AlterTable\nALTER TABLE accounts ADD COLUMN note text;\n\n-- CreateIndex\n"
                      "CREATE INDEX accounts_email_idx ON accounts (email);\n")
    fixes = plan_fixes([str(target)], Config())
    new = [c for c in fixes.changes if c.new]
    assert [c.path.relative_to(migrations).as_posix() for c in new] == [
        "20240102000001_email_index_accounts_email_idx_concurrently/migration.sql"]
    assert "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);" in new[0].after
    assert fixes.remaining == [] and fixes.refused == []
    apply_fixes(fixes)
    report = run([str(migrations)], Config(lock_timeout="2s"))
    assert serious(report) == []
    moved = [r.migration for r in report.results if Path(r.migration.path).parent.name.endswith("_concurrently")]
    assert len(moved) == 1 and moved[0].in_transaction is False


def test_plan_writes_a_migration_folder(tmp_path):
    from migrasafe.plan.planner import prepare, write as write_plan

    migrations = copy_layout(tmp_path)
    prepared = prepare(str(migrations), "add-index", {"columns": "accounts.email,id"}, Config())
    assert prepared.blocking == []
    written = write_plan(prepared)
    assert [p.name for p in written] == ["migration.sql"]
    assert written[0].parent.parent == migrations.resolve() or written[0].parent.parent == migrations
    report = run([str(migrations)], Config(lock_timeout="2s"))
    assert len(report.results) == 5 and serious(report)[1:] == []


def test_statements_after_a_commit_in_the_script_are_in_a_new_implicit_block(tmp_path, pg_server):
    """Prisma's generated enum swaps hold BEGIN ... COMMIT and more statements after it: PostgreSQL
    runs what follows the COMMIT of one multi-statement query in a new implicit transaction."""
    import psycopg

    script = "BEGIN;\nALTER TABLE t ADD COLUMN w text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n"
    with psycopg.connect(pg_server.uri, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v text)")
        result = conn.pgconn.exec_(script.encode())  # one simple query, as the schema engine sends it
        assert b"cannot run inside a transaction block" in result.error_message
    root = project(tmp_path, {"20240101000000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);",
                              "20240102000000_enum_swap": script})
    report = run([str(root)], Config(lock_timeout="2s"))
    refused = [f for f in report.results[1].all_findings() if f.rule == "MS004"]
    assert [f.line for f in refused] == [4]
