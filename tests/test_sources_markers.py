"""Tool configuration files that name the migrations folder (sources/markers.py): sql-migrate's
dbconfig.yml, diesel's diesel.toml and Flyway's flyway.conf, read while discovering from a root."""
import json
from pathlib import Path

from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import read_migrations
from project_files import write

UP = "-- +migrate Up\n"


def read(root: Path):
    skipped: dict[str, str] = {}
    migrations, findings = read_migrations([str(root)], Config(), skipped)
    return migrations, findings, skipped


DBCONFIG = """\
development:
  dialect: postgres
  datasource: host=localhost dbname=app sslmode=disable
  dir: db/postgres
  table: migrations

development-mysql:
  dialect: mysql
  datasource: root@/app
  dir: db/mysql
"""


def test_dbconfig_names_the_sql_migrate_folder_and_a_mysql_folder_is_not_checked(tmp_path, capsys):
    write(tmp_path, {
        "dbconfig.yml": DBCONFIG,
        # No annotation: by shape alone this is plain SQL, but dbconfig.yml says sql-migrate.
        "db/postgres/1_users.sql": UP + "CREATE TABLE users (id int);\n",
        "db/postgres/2_orders.sql": UP + "CREATE TABLE orders (id int);\n",
        "db/mysql/1_users.sql": UP + "CREATE TABLE users (id int) ENGINE=InnoDB;\n",
    })
    migrations, findings, skipped = read(tmp_path)
    assert findings == []
    assert [(m.format, Path(m.path).relative_to(tmp_path).as_posix()) for m in migrations] == [
        ("sql-migrate", "db/postgres/1_users.sql"), ("sql-migrate", "db/postgres/2_orders.sql")]
    (reason,) = [r for p, r in skipped.items() if p.endswith("db/mysql/1_users.sql")]
    assert "dbconfig.yml (development-mysql)" in reason and "mysql, not PostgreSQL" in reason

    assert main(["check", "--no-cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"read 1 history: {tmp_path / 'db' / 'postgres'} (sql-migrate, 2 migrations)" in out


def test_dbconfig_default_dir_is_migrations(tmp_path):
    write(tmp_path, {
        "dbconfig.yml": "production:\n  dialect: postgres\n  datasource: x\n",
        "migrations/001_a.sql": "CREATE TABLE a (id int);\n",
    })
    migrations, findings, _ = read(tmp_path)
    assert [m.format for m in migrations] == ["sql-migrate"]
    # sql-migrate refuses a file without '-- +migrate Up': said, not read as plain SQL.
    assert "no '-- +migrate Up'" in migrations[0].findings[0].message


def test_sqlite_only_dbconfig_is_not_read_as_postgresql(tmp_path):
    write(tmp_path, {
        "dbconfig.yml": "local:\n  dialect: sqlite3\n  datasource: app.db\n  dir: migrations/sqlite3\n",
        "migrations/sqlite3/1_a.sql": UP + "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
    })
    migrations, findings, skipped = read(tmp_path)
    assert migrations == []
    assert any("sqlite3, not PostgreSQL" in r for r in skipped.values())


def test_malformed_dbconfig_is_an_input_error_on_its_line_and_the_rest_is_read(tmp_path):
    write(tmp_path, {
        "dbconfig.yml": "development:\n  dialect: postgres\n  dir: [db\n",
        "flyway/V1__a.sql": "CREATE TABLE a (id int);\n",
    })
    migrations, findings, _ = read(tmp_path)
    assert [m.format for m in migrations] == ["flyway"]
    (finding,) = findings
    assert finding.rule == "MS099" and finding.path == str(tmp_path / "dbconfig.yml") and finding.line >= 3
    assert "dbconfig.yml" in finding.message


def test_diesel_toml_names_the_migrations_directory(tmp_path, capsys):
    write(tmp_path, {
        "diesel.toml": '[print_schema]\nfile = "src/schema.rs"\n\n[migrations_directory]\ndir = "db/changes"\n',
        "db/changes/2024-01-01-000000_users/up.sql": "CREATE TABLE users (id int);\n",
        "db/changes/2024-01-02-000000_posts/up.sql": "CREATE TABLE posts (id int);\n",
    })
    migrations, findings, _ = read(tmp_path)
    assert findings == [] and [m.format for m in migrations] == ["diesel", "diesel"]
    assert main(["check", "--no-cache", str(tmp_path)]) == 0
    assert f"{tmp_path / 'db' / 'changes'} (diesel, 2 migrations)" in capsys.readouterr().out


def test_malformed_diesel_toml_is_an_input_error(tmp_path):
    write(tmp_path, {"diesel.toml": "[migrations_directory]\ndir = \n", "m/001_a.sql": "CREATE TABLE a (id int);\n"})
    migrations, findings, _ = read(tmp_path)
    assert [m.format for m in migrations] == ["sql"]
    (finding,) = findings
    assert finding.rule == "MS099" and finding.path == str(tmp_path / "diesel.toml") and finding.line == 2


def test_flyway_conf_locations_name_the_folders_and_other_databases_are_skipped(tmp_path):
    write(tmp_path, {
        "pg/flyway.conf": "flyway.url=jdbc:postgresql://localhost/app\n"
                          "flyway.locations=filesystem:sql/schema, filesystem:sql/later,classpath:db/migration\n",
        # Versioned by Flyway's names below the named folders, which shape alone would also find.
        "pg/sql/schema/V1__a.sql": "CREATE TABLE a (id int);\n",
        "pg/sql/later/V2__b.sql": "CREATE TABLE b (id int);\n",
        "my/flyway.conf": "flyway.url=jdbc:mysql://localhost/app\nflyway.locations=filesystem:scripts\n",
        "my/scripts/V1__a.sql": "CREATE TABLE a (id int) ENGINE=InnoDB;\n",
    })
    migrations, findings, skipped = read(tmp_path)
    assert findings == []
    assert sorted(Path(m.path).name for m in migrations) == ["V1__a.sql", "V2__b.sql"]
    assert {m.format for m in migrations} == {"flyway"}
    (reason,) = [r for p, r in skipped.items() if p.endswith("my/scripts/V1__a.sql")]
    assert "jdbc:mysql" in reason and "not PostgreSQL" in reason


def test_flyway_conf_naming_a_missing_folder_is_an_input_error(tmp_path, capsys):
    write(tmp_path, {"flyway.conf": "flyway.locations=filesystem:nowhere\n",
                     "db/V1__a.sql": "CREATE TABLE a (id int);\n"})
    code = main(["check", "--no-cache", "--format", "json", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    assert [m["path"] for m in data["migrations"]] == [str(tmp_path / "db" / "V1__a.sql")]
    (finding,) = data["findings"]
    assert (finding["path"], finding["line"]) == (str(tmp_path / "flyway.conf"), 1) and "nowhere" in finding["message"]


def test_dbconfig_naming_a_missing_dir_points_at_its_line(tmp_path):
    write(tmp_path, {"dbconfig.yml": "development:\n  dialect: postgres\n  datasource: x\n  dir: gone\n",
                     "db/001_a.sql": "CREATE TABLE a (id int);\n"})
    migrations, findings, _ = read(tmp_path)
    assert [m.format for m in migrations] == ["sql"]
    (finding,) = findings
    assert (finding.path, finding.line) == (str(tmp_path / "dbconfig.yml"), 4) and "gone" in finding.message


def test_a_folder_named_explicitly_follows_the_marker_above_it(tmp_path):
    write(tmp_path, {
        "dbconfig.yml": DBCONFIG,
        "db/postgres/1_users.sql": UP + "CREATE TABLE users (id int);\n",
        "db/mysql/1_users.sql": UP + "CREATE TABLE users (id int) ENGINE=InnoDB;\n",
    })
    skipped: dict[str, str] = {}
    migrations, findings = read_migrations([str(tmp_path / "db" / "postgres")], Config(), skipped)
    assert findings == [] and [m.format for m in migrations] == ["sql-migrate"]
    migrations, findings = read_migrations([str(tmp_path / "db" / "mysql")], Config(), skipped)
    assert migrations == [] and findings == []
    assert "mysql, not PostgreSQL" in skipped[str(tmp_path / "db" / "mysql" / "1_users.sql")]
