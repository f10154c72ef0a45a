import json
import os
from pathlib import Path

from migrasafe.config import Config
from migrasafe.sources import read_migrations
from project_files import write


FLYWAY = {
    "db/V1__a.sql": "CREATE TABLE a (id int);",
    "db/V2__b.sql": "CREATE TABLE b (id int);",
    "db/V3__c.sql": "CREATE TABLE c (id int);",
    "db/V4__d.sql": "CREATE TABLE d (id int);",
}


def summary(migrations):
    return [(m.path, m.meta["context"]) for m in migrations]


def test_missing_path_is_a_run_level_input_error(tmp_path):
    write(tmp_path, FLYWAY)
    missing = str(tmp_path / "nope")
    migrations, findings = read_migrations([missing, str(tmp_path / "db")], Config())
    assert len(migrations) == 4
    (finding,) = findings
    assert (finding.rule, finding.name, finding.severity, finding.path) == ("MS099", "input-error", "error", missing)


def test_undecodable_and_binary_files_are_input_errors_and_the_rest_is_read(tmp_path):
    write(tmp_path, {"1_a.sql": "CREATE TABLE a (id int);", "3_c.sql": "CREATE TABLE c (id int);"})
    (tmp_path / "2_b.sql").write_bytes(b"CREATE TABLE b (id int);\n-- caf\xe9\n")
    (tmp_path / "4_d.sql").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == []
    assert [m.version for m in migrations] == ["1", "2", "3", "4"]
    assert [m.broken for m in migrations] == [False, True, False, True]
    bad = migrations[1].findings[0]
    assert (bad.rule, bad.name, bad.severity, bad.line) == ("MS099", "input-error", "error", 2)
    assert migrations[1].statements == []
    assert "binary" in migrations[3].findings[0].message
    assert len(migrations[2].statements) == 1


def test_single_file_brings_the_earlier_files_as_context(tmp_path):
    write(tmp_path, FLYWAY)
    db = tmp_path / "db"
    migrations, _ = read_migrations([str(db / "V3__c.sql")], Config())
    assert summary(migrations) == [
        (str(db / "V1__a.sql"), True), (str(db / "V2__b.sql"), True), (str(db / "V3__c.sql"), False),
    ]
    assert {m.meta["history"] for m in migrations} == {str(db.resolve())}


def test_folder_returns_everything_without_context(tmp_path):
    write(tmp_path, FLYWAY)
    migrations, _ = read_migrations([str(tmp_path / "db")], Config())
    assert [m.meta["context"] for m in migrations] == [False] * 4


def test_files_of_one_history_are_merged_in_run_order(tmp_path):
    write(tmp_path, FLYWAY)
    db = tmp_path / "db"
    migrations, _ = read_migrations([str(db / "V3__c.sql"), str(db / "V1__a.sql")], Config())
    assert summary(migrations) == [
        (str(db / "V1__a.sql"), False), (str(db / "V2__b.sql"), True), (str(db / "V3__c.sql"), False),
    ]


def test_relative_paths_stay_relative(tmp_path, monkeypatch):
    write(tmp_path, FLYWAY)
    monkeypatch.chdir(tmp_path / "db")
    migrations, _ = read_migrations(["V2__b.sql"], Config())
    assert [m.path for m in migrations] == ["V1__a.sql", "V2__b.sql"]
    monkeypatch.chdir(tmp_path)
    migrations, _ = read_migrations(["db"], Config())
    assert migrations[0].path == os.path.join("db", "V1__a.sql")
    migrations, _ = read_migrations(["./db/V2__b.sql"], Config())
    assert [m.path for m in migrations] == ["./db/V1__a.sql", "./db/V2__b.sql"]


def test_excluded_paths_are_skipped(tmp_path):
    write(tmp_path, {**FLYWAY, "legacy/001_old.sql": "SELECT 1;"})
    config = Config(root=tmp_path, exclude=["db/V2__*.sql", "legacy"])
    migrations, findings = read_migrations([str(tmp_path / "db"), str(tmp_path / "legacy")], config)
    assert findings == []
    assert [Path(m.path).name for m in migrations] == ["V1__a.sql", "V3__c.sql", "V4__d.sql"]
    migrations, _ = read_migrations([str(tmp_path / "db" / "V2__b.sql")], config)
    assert migrations == []


def test_utf16_file_is_an_input_error(tmp_path):
    (tmp_path / "1_a.sql").write_bytes("SELECT 1;".encode("utf-16"))
    (migration,), _ = read_migrations([str(tmp_path)], Config())
    assert migration.broken and "UTF-16" in migration.findings[0].message


def test_exclude_patterns_match_at_any_depth(tmp_path):
    write(tmp_path, {"a/b/1_x.sql": "SELECT 1;", "a/b/2_y.sql": "SELECT 1;"})
    config = Config(root=tmp_path, exclude=["**/2_y.sql"])
    migrations, _ = read_migrations([str(tmp_path / "a" / "b")], config)
    assert [Path(m.path).name for m in migrations] == ["1_x.sql"]


def test_named_undo_file_is_checked_after_the_migration_it_undoes(tmp_path):
    write(tmp_path, {
        "1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
        "2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;",
        "3_c.up.sql": "CREATE TABLE c (id int);",
    })
    migrations, _ = read_migrations([str(tmp_path / "2_b.down.sql")], Config())
    assert [(Path(m.path).name, m.kind, m.meta["context"]) for m in migrations] == [
        ("1_a.up.sql", "versioned", True), ("2_b.up.sql", "versioned", True), ("2_b.down.sql", "undo", False),
    ]


def test_named_flyway_undo_file_comes_after_its_version(tmp_path):
    write(tmp_path, {**FLYWAY, "db/U2__b.sql": "DROP TABLE b;"})
    migrations, _ = read_migrations([str(tmp_path / "db" / "U2__b.sql")], Config())
    assert [(Path(m.path).name, m.meta["context"]) for m in migrations] == [
        ("V1__a.sql", True), ("V2__b.sql", True), ("U2__b.sql", False),
    ]
    assert migrations[-1].kind == "undo"
    # A rollback is analysed as its own history, apart from the forward run of the folder.
    assert migrations[0].meta["history"] == migrations[-1].meta["history"] != str((tmp_path / "db").resolve())


def test_single_diesel_migration_folder_or_file_brings_context(tmp_path):
    write(tmp_path, {
        "migrations/2024-01-01-000000_a/up.sql": "CREATE TABLE a (id int);",
        "migrations/2024-01-02-000000_b/up.sql": "CREATE INDEX CONCURRENTLY i ON a (id);",
        "migrations/2024-01-02-000000_b/metadata.toml": "run_in_transaction = false",
        "migrations/2024-01-03-000000_c/up.sql": "SELECT 1;",
    })
    root = tmp_path / "migrations"
    for given in (root / "2024-01-02-000000_b", root / "2024-01-02-000000_b" / "up.sql"):
        migrations, _ = read_migrations([str(given)], Config())
        assert summary(migrations) == [
            (str(root / "2024-01-01-000000_a" / "up.sql"), True),
            (str(root / "2024-01-02-000000_b" / "up.sql"), False),
        ]
        assert migrations[-1].in_transaction is False


def test_file_no_tool_runs_is_checked_alone_as_plain_sql(tmp_path):
    write(tmp_path, {"m/2024-01-01-000000_a/up.sql": "SELECT 1;", "m/data_seed.sql": "INSERT INTO t VALUES (1);"})
    (migration,), _ = read_migrations([str(tmp_path / "m" / "data_seed.sql")], Config())
    assert migration.format == "sql" and migration.meta["context"] is False


def test_other_dialect_file_named_alone_is_not_run_on_postgres_and_says_so(tmp_path):
    write(tmp_path, {"1_a.postgres.up.sql": "SELECT 1;", "1_a.mysql.up.sql": "SELECT 1;"})
    named = str(tmp_path / "1_a.mysql.up.sql")
    skipped: dict[str, str] = {}
    migrations, findings = read_migrations([named], Config(), skipped)
    assert migrations == [] and findings == []
    assert skipped == {named: "for the mysql dialect: popx runs it only there"}


def test_a_python_file_that_is_no_revision_is_an_input_error(tmp_path):
    write(tmp_path, {"versions/abc_rev.py": "revision = 'abc'"})
    named = str(tmp_path / "versions" / "abc_rev.py")
    migrations, findings = read_migrations([named], Config())
    assert migrations == []
    assert [(f.rule, f.path) for f in findings] == [("MS099", named)]
    assert "not a migration file" in findings[0].message


def test_every_file_of_a_migrations_folder_not_read_is_listed_except_companions(tmp_path):
    write(tmp_path, {
        "db/00001_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n",
        "db/00002_b.sql": "-- +goose Up\nCREATE TABLE b (id int);\n",
        "db/00003_c.psql": "-- +goose Up\nCREATE TABLE c (id int);\n",
        "db/notes.txt": "why b exists",
        "db/embed.go": "package db\n",  # goose's own language: the package its migrations build into
        "db/helper.py": "",
        "db/README.md": "", "db/README": "", "db/LICENSE": "", "db/.gitkeep": "", "db/.editorconfig": "",
    })
    skipped: dict[str, str] = {}
    migrations, findings = read_migrations([str(tmp_path / "db")], Config(), skipped)
    assert findings == [] and [m.format for m in migrations] == ["goose", "goose"]
    listed = {os.path.basename(p): r for p, r in skipped.items()}
    assert sorted(listed) == ["00003_c.psql", "helper.py", "notes.txt"]
    assert listed["00003_c.psql"] == listed["notes.txt"] == "not a migration file: goose does not run it"
    assert listed["helper.py"].startswith("Python code, not a migration")


DRIZZLE_JOURNAL = {"version": "7", "dialect": "postgresql", "entries": [
    {"idx": i, "version": "7", "when": 1700000000000 + i, "tag": tag, "breakpoints": True}
    for i, tag in enumerate(["0000_init", "0001_orders", "0002_index"])
]}
DRIZZLE = {
    "drizzle/meta/_journal.json": json.dumps(DRIZZLE_JOURNAL),
    "drizzle/0000_init.sql": "CREATE TABLE a (id int);",
    "drizzle/0001_orders.sql": "CREATE TABLE orders (id int);",
    "drizzle/0002_index.sql": "CREATE INDEX orders_id ON orders (id);",
}


def test_from_a_drizzle_tag_or_index_checks_the_later_entries_as_one_run(tmp_path):
    write(tmp_path, DRIZZLE)
    for start in ("0000_init", "0"):
        migrations, findings = read_migrations([str(tmp_path / "drizzle")], Config(start=start))
        assert findings == []
        assert [(os.path.basename(m.path), m.meta["context"]) for m in migrations] == [
            ("0000_init.sql", True), ("0001_orders.sql", False), ("0002_index.sql", False)]
        pending = migrations[1:]
        assert {m.meta.get("session") for m in pending} == {f"run:{pending[0].meta['history']}"}
        assert all(m.meta.get("shared_transaction") for m in pending)


def test_from_a_file_of_a_plain_ordered_folder_checks_the_files_after_it(tmp_path):
    write(tmp_path, FLYWAY)
    for start in ("V2__b.sql", "2", "V2__b"):
        migrations, findings = read_migrations([str(tmp_path / "db")], Config(start=start))
        assert findings == []
        assert summary(migrations) == [(str(tmp_path / "db" / f), f in ("V1__a.sql", "V2__b.sql"))
                                       for f in ("V1__a.sql", "V2__b.sql", "V3__c.sql", "V4__d.sql")]


def test_from_on_the_command_line_is_used_or_refused_never_ignored(tmp_path, capsys):
    from migrasafe.cli import main

    write(tmp_path, {**DRIZZLE, "plain/001_a.sql": "CREATE TABLE a (id int);",
                     "plain/002_b.sql": "CREATE INDEX a_id ON a (id);"})
    assert main(["check", "--no-cache", "--format", "json", str(tmp_path / "plain"), "--from", "002_b"]) == 0
    assert json.loads(capsys.readouterr().out)["migrations"] == []  # nothing after it: nothing pending

    code = main(["check", "--no-cache", "--format", "json", str(tmp_path / "drizzle"), "--from", "0001_orders"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and [os.path.basename(m["path"]) for m in data["migrations"]] == ["0002_index.sql"]

    code = main(["check", "--no-cache", "--format", "json", str(tmp_path / "drizzle"), "--from", "0009_none"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2 and data["migrations"] == []
    (finding,) = data["findings"]
    assert finding["rule"] == "MS099"
    assert "--from 0009_none names no migration of the drizzle history" in finding["message"]


def test_from_is_refused_for_a_layout_without_one_order(tmp_path, capsys):
    from migrasafe.cli import main

    write(tmp_path, {
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
        "shop/__init__.py": "", "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": "from django.db import migrations\n\n\n"
                                           "class Migration(migrations.Migration):\n    operations = []\n",
    })
    code = main(["check", "--no-cache", "--format", "json", str(tmp_path), "--from", "0001_initial"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2 and data["migrations"] == []
    (finding,) = data["findings"]
    assert "--from 0001_initial is not supported for the Django layout" in finding["message"]


def test_to_stops_the_history_at_the_named_migration_in_every_ordered_layout(tmp_path, capsys):
    from migrasafe.cli import main

    write(tmp_path, {**DRIZZLE, **FLYWAY})
    migrations, findings = read_migrations([str(tmp_path / "db")], Config(stop="V2__b.sql"))
    assert findings == [] and [os.path.basename(m.path) for m in migrations] == ["V1__a.sql", "V2__b.sql"]
    migrations, findings = read_migrations([str(tmp_path / "db")], Config(start="1", stop="3"))
    assert findings == []
    assert [(os.path.basename(m.path), m.meta["context"]) for m in migrations] == [
        ("V1__a.sql", True), ("V2__b.sql", False), ("V3__c.sql", False)]
    # Drizzle: the entries between --from and --to are the pending run; 0002 is not read.
    code = main(["check", "--no-cache", "--format", "json", str(tmp_path / "drizzle"), "--to", "0001_orders"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and [os.path.basename(m["path"]) for m in data["migrations"]] == ["0000_init.sql", "0001_orders.sql"]
    for options, said in ((["--to", "V9__none"], "--to V9__none names no migration of the flyway history"),
                          (["--from", "V3__c", "--to", "V2__b"], "--to V2__b comes before --from V3__c")):
        code = main(["check", "--no-cache", "--format", "json", str(tmp_path / "db"), *options])
        data = json.loads(capsys.readouterr().out)
        assert code == 2 and data["migrations"] == []
        assert said in data["findings"][0]["message"]
