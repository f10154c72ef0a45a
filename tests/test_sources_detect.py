from pathlib import Path

import pytest

from migrasafe.config import Config
from migrasafe.sources import read_migrations
from migrasafe.sources.detect import detect_format
from project_files import write


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"V1__init.sql": "SELECT 1;", "seed.sql": ""}, "flyway"),
        ({"R__views.sql": "SELECT 1;"}, "flyway"),
        ({"2024-01-01-000000_users/up.sql": "SELECT 1;", "loose.sql": ""}, "diesel"),
        ({"0001_init.up.sql": "SELECT 1;", "0001_init.down.sql": ""}, "golang-migrate"),
        ({"0001_1.2.0_schema.up.sql": "SELECT 1;"}, "golang-migrate"),
        ({"20200101000000_a.postgres.up.sql": "", "20200101000000_a.mysql.up.sql": ""}, "popx"),
        ({"20200101000000_a.up.sql": "CREATE TABLE {{ .Schema }}.t ();"}, "popx"),
        ({"20200101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"}, "dbmate"),
        ({"001_a.sql": "SELECT 1;", "002_b.sql": "SELECT 2;"}, "sql"),
        ({"notes.txt": "x"}, None),
    ],
)
def test_detects_format_from_names_and_markers(tmp_path, files, expected):
    assert detect_format(write(tmp_path, files)) == expected


def test_forced_format_wins_over_detection(tmp_path):
    write(tmp_path, {"V1__init.sql": "SELECT 1;"})
    migrations, _ = read_migrations([str(tmp_path)], Config(format="sql"))
    assert [m.format for m in migrations] == ["sql"]


def test_folder_without_migrations_is_searched_below(tmp_path):
    write(tmp_path, {
        "db/flyway/V1__a.sql": "CREATE TABLE a (id int);",
        "db/other/001_x.sql": "CREATE TABLE x (id int);",
        "app/main.py": "",
    })
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == []
    assert [(m.format, Path(m.path).name) for m in migrations] == [("flyway", "V1__a.sql"), ("sql", "001_x.sql")]
    assert migrations[0].meta["history"] != migrations[1].meta["history"]
    assert migrations[0].path == str(tmp_path / "db" / "flyway" / "V1__a.sql")


def test_seed_and_fixture_folders_below_a_root_are_data_not_histories(tmp_path, capsys):
    write(tmp_path, {
        "db/migrations/001_orders.sql": "CREATE TABLE orders (id int);",
        "db/seeds/001_orders.sql": "INSERT INTO orders VALUES (1);",
        "db/seeds/dev/002_more.sql": "INSERT INTO orders VALUES (2);",
        "test/fixtures/001_rows.sql": "INSERT INTO orders VALUES (3);",
        "seed/001_x.sql": "INSERT INTO orders VALUES (4);",
    })
    skipped: dict[str, str] = {}
    migrations, findings = read_migrations([str(tmp_path)], Config(), skipped)
    assert findings == []
    assert [Path(m.path).relative_to(tmp_path).as_posix() for m in migrations] == ["db/migrations/001_orders.sql"]
    data = {Path(p).relative_to(tmp_path).as_posix(): r for p, r in skipped.items()}
    assert sorted(data) == ["db/seeds/001_orders.sql", "db/seeds/dev/002_more.sql", "seed/001_x.sql",
                            "test/fixtures/001_rows.sql"]
    assert all(r.startswith("data, not a migration") for r in data.values())

    from migrasafe.cli import main

    assert main(["check", "--no-cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("read ")]
    assert line == f"read 1 history: {tmp_path / 'db' / 'migrations'} (sql, 1 migration)"
    assert "not read: 4 files" in out


def test_a_seeds_folder_named_explicitly_is_checked(tmp_path):
    write(tmp_path, {"db/seeds/001_orders.sql": "CREATE TABLE orders (id int);"})
    migrations, findings = read_migrations([str(tmp_path / "db" / "seeds")], Config())
    assert findings == [] and [m.format for m in migrations] == ["sql"]


def test_fix_and_check_take_the_same_source_formats():
    import argparse

    from migrasafe.cli import build_parser
    from migrasafe.sources.registry import FORMATS

    def choices(command):
        commands = next(a for a in build_parser(command)._actions if isinstance(a, argparse._SubParsersAction))
        action = next(a for a in commands.choices[command]._actions if a.dest == "source_format")
        return list(action.choices)

    expected = [*FORMATS, "alembic", "django"]
    assert choices("check") == expected
    assert choices("fix") == expected
    assert {"atlas", "graphile-migrate", "versioned-folders"} <= set(choices("fix"))


def test_the_registry_lists_each_reader_once_with_its_markers():
    from migrasafe.sources.registry import DETECTION_ORDER, FORMATS, ROOTED

    assert [FORMATS[name].name for name in DETECTION_ORDER] == list(DETECTION_ORDER) == list(FORMATS)
    assert list(ROOTED) == [name for name, fmt in FORMATS.items() if fmt.root_of is not None]
    assert "nope" not in FORMATS and FORMATS.get("nope") is None


def test_a_folder_of_plain_sql_imports_no_other_reader(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "a" / "b" / "c" / "d" / "e" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_init.sql").write_text("CREATE TABLE t (id int);\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from migrasafe.config import Config\n"
        "from migrasafe.sources import read_migrations\n"
        f"migrations, _ = read_migrations([{str(folder)!r}], Config())\n"
        "assert [m.format for m in migrations] == ['sql'], migrations\n"
        "print(sorted(m for m in sys.modules if m.startswith('migrasafe.sources.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = eval(done.stdout)
    for reader in ("atlas", "sqitch", "liquibase", "goose", "sql_migrate", "prisma", "drizzle", "supabase",
                   "graphile", "node_pg_migrate", "flyway", "popx", "golang_migrate", "dbmate"):
        assert f"migrasafe.sources.{reader}" not in loaded
