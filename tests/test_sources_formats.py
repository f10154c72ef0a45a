from pathlib import Path

from migrasafe.config import Config
from migrasafe.sources import read_migrations
from project_files import write


def read(root: Path, config: Config | None = None):
    return read_migrations([str(root)], config or Config())


# plain SQL


def test_plain_sql_is_autocommit_in_natural_order(tmp_path):
    write(tmp_path, {"10_c.sql": "SELECT 1;", "2_b.sql": "SELECT 1;\nSELECT 2;", "1_a.sql": "SELECT 1;"})
    migrations, findings = read(tmp_path)
    assert findings == []
    assert [m.version for m in migrations] == ["1", "2", "10"]
    assert [m.description for m in migrations] == ["a", "b", "c"]
    assert all(m.format == "sql" and m.in_transaction is False for m in migrations)
    assert migrations[1].transaction_reason == (
        "plain SQL files run statement by statement (autocommit) unless they open a transaction"
    )


def test_plain_sql_transaction_can_be_configured(tmp_path):
    write(tmp_path, {"1_a.sql": "SELECT 1;"})
    (migration,), _ = read(tmp_path, Config(transaction={"sql": True}))
    assert migration.in_transaction is True
    assert migration.transaction_reason == "transaction.sql = true in the configuration"


def test_psql_meta_commands_are_skipped_and_reported(tmp_path):
    write(tmp_path, {"1_a.sql": "\\set ON_ERROR_STOP on\nCREATE TABLE t (id int);\n"})
    (migration,), _ = read(tmp_path)
    (finding,) = migration.findings
    assert (finding.rule, finding.name, finding.severity, finding.line) == ("MS091", "psql-meta-command", "info", 1)
    assert [s.line for s in migration.statements] == [2]


# golang-migrate


def test_golang_migrate_orders_by_integer_and_skips_down_files(tmp_path):
    write(tmp_path, {
        "10_c.up.sql": "SELECT 1;", "10_c.down.sql": "SELECT 1;",
        "9_b.up.sql": "CREATE INDEX CONCURRENTLY i ON t (a);", "9_b.down.sql": "SELECT 1;",
        "0001_1.2.0_schema.up.sql": "SELECT 1;",
    })
    migrations, _ = read(tmp_path)
    assert [Path(m.path).name for m in migrations] == ["0001_1.2.0_schema.up.sql", "9_b.up.sql", "10_c.up.sql"]
    assert migrations[0].description == "1.2.0_schema"
    single = migrations[1]
    assert single.format == "golang-migrate" and single.in_transaction is False
    assert single.transaction_reason == "golang-migrate does not wrap files in a transaction"


def test_golang_migrate_multi_statement_file_is_one_implicit_transaction(tmp_path):
    write(tmp_path, {"1_a.up.sql": "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);"})
    (migration,), _ = read(tmp_path)
    assert migration.in_transaction is True
    assert migration.meta["implicit_transaction"] is True
    assert "implicit transaction" in migration.transaction_reason


def test_golang_migrate_configured_to_send_statements_one_by_one(tmp_path):
    write(tmp_path, {"1_a.up.sql": "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);"})
    (migration,), _ = read(tmp_path, Config(transaction={"golang-migrate": False}))
    assert migration.in_transaction is False


# dbmate


DBMATE = """-- a comment before the section is fine

-- migrate:up
CREATE TABLE t (id int);

CREATE INDEX t_id ON t (id);

-- migrate:down
DROP TABLE t;
"""


def test_dbmate_analyses_only_the_up_section_with_file_line_numbers(tmp_path):
    write(tmp_path, {"20240101000000_t.sql": DBMATE, "20230101000000_first.sql": "-- migrate:up\nSELECT 1;\n"})
    first, second = read(tmp_path)[0]
    assert first.version == "20230101000000"
    assert second.format == "dbmate" and second.description == "t"
    assert [s.line for s in second.statements] == [4, 6]
    assert "DROP TABLE" not in second.text
    assert second.in_transaction is True
    assert second.transaction_reason == "dbmate runs each migration in a transaction"


def test_dbmate_transaction_false(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- migrate:down\n",
        "2_b.sql": "-- migrate:up transaction:false\nSELECT 1;\nSELECT 2;\n",
    })
    single, multi = read(tmp_path)[0]
    assert single.in_transaction is False
    assert "transaction:false" in single.transaction_reason
    # dbmate sends the section as one query: PostgreSQL still runs it as one transaction.
    assert multi.in_transaction is True and multi.meta["implicit_transaction"] is True


def test_dbmate_file_without_up_section_is_an_input_error(tmp_path):
    write(tmp_path, {"1_a.sql": "-- migrate:up\nSELECT 1;\n", "2_b.sql": "SELECT 1;\n"})
    good, bad = read(tmp_path, Config(format="dbmate"))[0]
    assert not good.broken
    assert bad.broken and [f.rule for f in bad.findings] == ["MS099"]


def test_dbmate_down_section_before_up_is_an_input_error(tmp_path):
    write(tmp_path, {"1_a.sql": "-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (id int);\n"})
    (migration,), _ = read(tmp_path, Config(format="dbmate"))
    assert migration.broken
    assert [(f.rule, f.line) for f in migration.findings] == [("MS099", 1)]
    assert [s.line for s in migration.statements] == [4]


# diesel


def test_diesel_orders_folders_and_reads_metadata(tmp_path):
    write(tmp_path, {
        "00000000000000_diesel_initial_setup/up.sql": "SELECT 1;",
        "2019-05-14-165316_b/up.sql": "SELECT 1;",
        "2019-05-14-165316_b/down.sql": "SELECT 1;",
        "2026-06-17-094708-0000_c/up.sql": "CREATE INDEX CONCURRENTLY i ON t (id);",
        "2026-06-17-094708-0000_c/metadata.toml": "run_in_transaction = false\n",
        "20170315133901_a/up.sql": "SELECT 1;",
        "loose.sql": "SELECT 1;",
        "not_a_migration/readme.md": "",
    })
    migrations, findings = read(tmp_path)
    assert findings == []
    assert [m.version for m in migrations] == ["00000000000000", "20170315133901", "2019-05-14-165316", "2026-06-17-094708-0000"]
    assert migrations[-1].path == str(tmp_path / "2026-06-17-094708-0000_c" / "up.sql")
    assert migrations[-1].in_transaction is False
    assert migrations[-1].transaction_reason == "metadata.toml sets run_in_transaction = false"
    assert all(m.in_transaction for m in migrations[:-1])
    assert migrations[2].description == "b"


def test_diesel_metadata_that_diesel_would_ignore_is_an_input_error(tmp_path):
    write(tmp_path, {
        "2024-01-01-000000_a/up.sql": "SELECT 1;",
        "2024-01-01-000000_a/metadata.toml": 'run_in_transaction = "false"\n',
        "2024-01-02-000000_b/up.sql": "SELECT 1;",
        "2024-01-02-000000_b/metadata.toml": "run_in_transaction = \n",
    })
    first, second = read(tmp_path)[0]
    for migration in (first, second):
        assert migration.broken and migration.in_transaction is True
        assert [f.rule for f in migration.findings] == ["MS099"]
        assert migration.findings[0].path.endswith("metadata.toml")


# popx


def test_popx_prefers_the_postgres_file_and_ignores_other_dialects(tmp_path):
    write(tmp_path, {
        "20150100000001000000_networks.up.sql": "CREATE TABLE generic (id int);",
        "20150100000001000000_networks.postgres.up.sql": "CREATE TABLE pg (id int);",
        "20150100000001000000_networks.mysql.up.sql": "CREATE TABLE my (id int) ENGINE=InnoDB;",
        "20150100000001000000_networks.down.sql": "",
        "20191100000001_legacy.up.sql": "",
        "20191100000002000000_next.cockroach.up.sql": "SELECT 1;",
    })
    migrations, _ = read(tmp_path)
    assert [Path(m.path).name for m in migrations] == [
        "20150100000001000000_networks.postgres.up.sql", "20191100000001_legacy.up.sql",
    ]
    assert migrations[1].statements == []  # empty placeholders for other dialects are fine
    assert all(m.format == "popx" and m.in_transaction for m in migrations)


def test_popx_steps_of_one_release_reach_production_together(tmp_path):
    from migrasafe.check import run

    write(tmp_path, {
        "20150100000001000000_users.postgres.up.sql": "CREATE TABLE users (id int, email text);",
        "20150100000001000001_users.postgres.up.sql": "CREATE INDEX users_email_idx ON users (email);",
        "20150200000001000000_later.postgres.up.sql": "CREATE INDEX users_id_idx ON users (id);",
    })
    report = run([str(tmp_path)], Config())
    flagged = [(result.migration.path.rsplit("/", 1)[-1], f.rule) for result in report.results
               for f in result.all_findings() if f.rule == "MS001"]
    # The table is new for every step of the release that creates it; a later release finds it live.
    assert flagged == [("20150200000001000000_later.postgres.up.sql", "MS001")]
    assert [r.migration.unit for r in report.results][:2] == ["popx release 20150100000001"] * 2


def test_popx_orders_versions_as_strings(tmp_path):
    write(tmp_path, {"9_b.postgres.up.sql": "SELECT 1;", "10_a.postgres.up.sql": "SELECT 1;"})
    migrations, _ = read(tmp_path)
    assert [m.version for m in migrations] == ["10", "9"]


def test_popx_autocommit_file_runs_without_a_transaction(tmp_path):
    write(tmp_path, {
        "1_a.postgres.autocommit.up.sql": "CREATE INDEX CONCURRENTLY i ON t (id);",
        "2_b.autocommit.up.sql": "CREATE INDEX CONCURRENTLY j ON t (id);",
    })
    first, second = read(tmp_path)[0]
    assert first.in_transaction is False and second.in_transaction is False
    assert ".autocommit" in first.transaction_reason


def test_popx_templates_are_substituted_and_reported(tmp_path):
    write(tmp_path, {"1_a.up.sql": 'SELECT 1;\nCREATE TABLE {{ index .Options "Namespace" }}.t (id int);\n'})
    (migration,), _ = read(tmp_path)
    assert migration.format == "popx"
    (finding,) = migration.findings
    assert (finding.rule, finding.line) == ("MS090", 2)
    assert [s.parse_error for s in migration.statements] == [None, None]


def test_a_repeated_placeholder_is_reported_once_with_its_lines(tmp_path):
    ns = '{{ index .Options "Namespace" }}'
    write(tmp_path, {"1_a.up.sql": f"CREATE TABLE {ns}.t (id int);\nCREATE TABLE {ns}.u (id int);\n"
                                    f"CREATE INDEX ON {ns}.u (id);\nCREATE TABLE {{{{ .Other }}}}.v (id int);\n"})
    (migration,), _ = read(tmp_path)
    found = [(f.rule, f.line, f.message) for f in migration.findings]
    assert [(rule, line) for rule, line, _ in found] == [("MS090", 1), ("MS090", 4)]
    assert found[0][2].endswith("(3 times, lines 1, 2, 3)")
    assert "times" not in found[1][2]
