from pathlib import Path

import pytest

from migrasafe.config import Config
from migrasafe.sources import read_migrations
from migrasafe.sources.detect import detect_format


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


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
