"""Plain SQL in version folders (v1.2/, release-3/, delta/57/, 2.4.0/): one history in natural
version order, manifest.json membership and order, PostgreSQL dialect files in, other dialects out."""
import json
from pathlib import Path

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import read_migrations
from migrasafe.sources.versioned_folders import classify, version_key
from project_files import write

LAYOUT = Path(__file__).parent / "layouts" / "versioned-folders" / "app"
UPGRADE = LAYOUT / "db" / "upgrade"


def findings_of(report, at_least="warning"):
    rank = {"info": 0, "warning": 1, "error": 2}
    return sorted((Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
                  if rank[f.severity] >= rank[at_least] and not r.migration.meta.get("context"))


def test_file_names_by_dialect_and_direction():
    assert [classify(n) for n in ("a.sql", "a.sql.postgres", "a.postgres.sql", "a.pg.sql", "a.down.sql")] == [
        "up", "up", "up", "up", "down"]
    assert [classify(n) for n in ("a.mysql.sql", "a.sql.mysql", "a.sqlite", "a.h2.sql")] == ["other-dialect"] * 4
    assert [classify(n) for n in ("manifest.json", "a.sql.bak", "README.md")] == [None, None, None]


def test_folder_versions_sort_naturally():
    names = ["v1.10", "release-2.0", "v1.2", "1.2.0-rc1", "v1.9", "57"]
    assert sorted(names, key=version_key) == ["v1.2", "1.2.0-rc1", "v1.9", "v1.10", "release-2.0", "57"]
    assert version_key("common") is None and version_key("delta") is None


def test_project_root_finds_one_history_in_release_order_with_manifest_order():
    migrations, findings = read_migrations([str(LAYOUT)], Config())
    assert findings == []
    assert [str(Path(m.path).relative_to(UPGRADE)) for m in migrations] == [
        "v1.2/001_create_orders.sql",
        "v1.9/01_add_status.sql",
        "v1.10/02_customer_index.postgres.sql",  # manifest.json lists it first
        "v1.10/01_widen_note.sql.postgres",
        "release-2.0/postgres/01_status_index.sql",
    ]
    assert {m.format for m in migrations} == {"versioned-folders"}
    assert {m.meta["history"] for m in migrations} == {str(UPGRADE.resolve())}
    assert not any(m.in_transaction for m in migrations)  # psql in autocommit, no BEGIN in the files
    assert not any("down" in m.path for m in migrations)


def test_dangerous_index_flagged_and_nothing_else():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    assert findings_of(report) == [("02_customer_index.postgres.sql", "MS001")]
    skipped = {str(Path(k).relative_to(UPGRADE)): v for k, v in report.skipped.items()}
    assert set(skipped) == {"common/functions.sql", "release-2.0/mysql/01_status_index.sql",
                            "v1.10/03_scratch.sql", "v1.2/001_create_orders.mysql.sql",
                            "v1.9/02_status_index.sqlite"}
    assert "not listed in v1.10/manifest.json" in skipped["v1.10/03_scratch.sql"]
    assert "another database" in skipped["v1.9/02_status_index.sqlite"]
    assert "not a version folder" in skipped["common/functions.sql"]


def test_cli_names_the_layout(capsys):
    code = main(["check", str(LAYOUT), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {m["format"] for m in data["migrations"]} == {"versioned-folders"}
    assert len(data["migrations"]) == 5 and len(data["skipped"]) == 5


def test_a_named_file_is_checked_after_the_releases_before_it():
    named = UPGRADE / "v1.10" / "01_widen_note.sql.postgres"
    report = run([str(named)], Config(lock_timeout="2s"))
    checked = [r for r in report.results if not r.migration.meta.get("context")]
    assert [Path(r.migration.path).name for r in checked] == ["01_widen_note.sql.postgres"]
    assert len(report.results) == 4  # v1.2, v1.9 and the manifest's first file come first, as context
    assert findings_of(report) == []  # a varchar widening on a table known from v1.2


def test_a_named_version_folder_is_checked_after_the_releases_before_it():
    report = run([str(UPGRADE / "v1.10")], Config(lock_timeout="2s"))
    checked = [Path(r.migration.path).name for r in report.results if not r.migration.meta.get("context")]
    assert checked == ["02_customer_index.postgres.sql", "01_widen_note.sql.postgres"]
    assert len(report.results) == 4  # v1.2 and v1.9 come first, as context
    assert findings_of(report) == [("02_customer_index.postgres.sql", "MS001")]
    assert [Path(k).name for k in report.skipped] == ["03_scratch.sql"]


def test_delta_folders_and_a_down_file_are_never_forward(tmp_path):
    write(tmp_path, {
        "sql/delta/1/01_create.sql": "CREATE TABLE t (a int, b varchar(10));\n",
        "sql/delta/1/01_create.down.sql": "DROP TABLE t;\n",
        "sql/delta/57/01_index.sql": "BEGIN;\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCOMMIT;\n",
        "sql/delta/10/01_widen.sql": "SET lock_timeout = '2s';\nALTER TABLE t ALTER COLUMN b TYPE varchar(20);\n",
    })
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [str(Path(r.migration.path).relative_to(tmp_path / "sql" / "delta")) for r in report.results] == [
        "1/01_create.sql", "10/01_widen.sql", "57/01_index.sql"]
    assert findings_of(report, "error") == [("01_index.sql", "MS004")]  # inside the file's own BEGIN


def test_manifest_problems_are_input_errors(tmp_path):
    write(tmp_path, {
        "m/v1/manifest.json": '{"files": ["01_a.sql", "02_missing.sql"]}\n',
        "m/v1/01_a.sql": "SELECT 1;\n",
        "m/v2/manifest.json": '{"files": [\n  "01_b.sql",\n}\n',
        "m/v2/01_b.sql": "SELECT 1;\n",
    })
    migrations, findings = read_migrations([str(tmp_path / "m")], Config())
    messages = sorted((Path(f.path).parent.name, f.line, f.message) for f in findings)
    assert messages[0][0] == "v1" and "lists 02_missing.sql" in messages[0][2]
    assert messages[1][0] == "v2" and messages[1][1] == 3 and "does not parse" in messages[1][2]
    assert [Path(m.path).name for m in migrations] == ["01_a.sql"]


def test_one_version_folder_alone_is_not_taken_for_a_history(tmp_path):
    write(tmp_path, {"api/v1/get_user.sql": "SELECT * FROM users WHERE id = $1;\n"})
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert migrations == [] and [f.rule for f in findings] == ["MS099"]
    write(tmp_path, {"api/v1/manifest.json": '["get_user.sql"]'})
    migrations, _ = read_migrations([str(tmp_path)], Config())
    assert [m.format for m in migrations] == ["versioned-folders"]


def test_flyway_files_in_version_folders_stay_flyways(tmp_path):
    write(tmp_path, {"db/v1/V1__a.sql": "SELECT 1;\n", "db/v2/V2__b.sql": "SELECT 1;\n"})
    migrations, _ = read_migrations([str(tmp_path / "db")], Config())
    assert {m.format for m in migrations} == {"flyway"}


def test_fix_in_a_version_folder_adds_concurrently_in_place(tmp_path):
    import shutil

    shutil.copytree(LAYOUT, tmp_path / "app")
    target = tmp_path / "app" / "db" / "upgrade" / "v1.10" / "02_customer_index.postgres.sql"
    main(["fix", str(target), "--write"])
    assert "CREATE INDEX CONCURRENTLY orders_customer" in target.read_text()
    report = run([str(tmp_path / "app")], Config(lock_timeout="2s"))
    assert findings_of(report) == []
