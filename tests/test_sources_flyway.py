from pathlib import Path

from migrasafe.config import Config
from migrasafe.sources import read_migrations
from project_files import write


def read(root: Path, config: Config | None = None):
    return read_migrations([str(root)], config or Config())


def names(migrations):
    return [Path(m.path).name for m in migrations]


def test_versioned_order_is_numeric_and_repeatables_run_last(tmp_path):
    write(tmp_path, {
        "R__b_view.sql": "SELECT 1;",
        "R__a_view.sql": "SELECT 1;",
        "V2.0.3__d.sql": "SELECT 1;",
        "V1_10__c.sql": "SELECT 1;",
        "V1.9__b.sql": "SELECT 1;",
        "V1.1__a.sql": "SELECT 1;",
        "V10__e.sql": "SELECT 1;",
        "sub/V1__first.sql": "SELECT 1;",
        "afterMigrate.sql": "SELECT 1;",
        "V1a__not_a_version.sql": "SELECT 1;",
    })
    migrations, findings = read(tmp_path)
    assert findings == []
    assert names(migrations) == [
        "V1__first.sql", "V1.1__a.sql", "V1.9__b.sql", "V1_10__c.sql", "V2.0.3__d.sql", "V10__e.sql",
        "R__a_view.sql", "R__b_view.sql",
    ]
    assert [m.kind for m in migrations][-2:] == ["repeatable", "repeatable"]
    assert migrations[3].version == "1_10"
    assert migrations[0].description == "first"


def test_undo_files_are_not_part_of_a_forward_run(tmp_path):
    write(tmp_path, {"V1__a.sql": "CREATE TABLE a (id int);", "U1__a.sql": "DROP TABLE a;"})
    migrations, _ = read(tmp_path)
    assert names(migrations) == ["V1__a.sql"]


def test_latest_baseline_replaces_the_versions_it_covers(tmp_path):
    write(tmp_path, {
        "V1__a.sql": "SELECT 1;",
        "V2__b.sql": "SELECT 1;",
        "B2__old_baseline.sql": "SELECT 1;",
        "V3__c.sql": "SELECT 1;",
        "B3__baseline.sql": "SELECT 1;",
        "V4__d.sql": "SELECT 1;",
        "R__view.sql": "SELECT 1;",
    })
    migrations, _ = read(tmp_path)
    assert names(migrations) == ["B3__baseline.sql", "V4__d.sql", "R__view.sql"]
    assert migrations[0].kind == "baseline"


def test_duplicate_versions_are_read_and_left_to_the_history_checks(tmp_path):
    # Both are read; MS050 (tests/test_history_integrity.py) says Flyway refuses them.
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 1;"})
    migrations, findings = read(tmp_path)
    assert findings == [] and names(migrations) == ["V1.0__b.sql", "V1__a.sql"]


def test_each_script_runs_in_a_transaction(tmp_path):
    write(tmp_path, {"V1__a.sql": "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);"})
    (migration,), _ = read(tmp_path)
    assert migration.in_transaction is True
    assert migration.transaction_reason == "Flyway runs each script in a transaction"


def test_script_with_only_concurrent_index_runs_outside_a_transaction(tmp_path):
    write(tmp_path, {"V1__a.sql": "-- build it online\n\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"})
    (migration,), _ = read(tmp_path)
    assert migration.in_transaction is False
    assert migration.transaction_reason == (
        "file holds CREATE INDEX CONCURRENTLY (line 3), which Flyway runs outside a transaction"
    )
    assert migration.findings == []


def test_reindex_table_is_transactional_for_flyway_but_reindex_schema_is_not(tmp_path):
    write(tmp_path, {"V1__a.sql": "REINDEX TABLE a;", "V2__b.sql": "REINDEX SCHEMA public;"})
    first, second = read(tmp_path)[0]
    assert first.in_transaction is True
    assert second.in_transaction is False


def test_alter_type_add_value_is_non_transactional_only_before_pg12(tmp_path):
    write(tmp_path, {"V1__a.sql": "ALTER TYPE mood ADD VALUE 'meh';"})
    (modern,), _ = read(tmp_path, Config(pg_version=16))
    assert modern.in_transaction is True
    (old,), _ = read(tmp_path, Config(pg_version=11))
    assert old.in_transaction is False


def test_mixing_concurrent_index_with_any_other_statement_is_refused(tmp_path):
    write(tmp_path, {"V1__a.sql": "SET lock_timeout = '2s';\n\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"})
    (migration,), _ = read(tmp_path)
    (finding,) = migration.findings
    assert (finding.rule, finding.name, finding.severity) == ("MS006", "flyway-mixed-transaction", "error")
    assert (finding.line, finding.column) == (3, 1)
    assert "line 3" in finding.message and "line 1" in finding.message
    assert finding.fix.startswith("move the CREATE INDEX CONCURRENTLY statement into its own migration file")
    assert migration.in_transaction is False


def test_mixed_allowed_runs_the_script_without_a_transaction(tmp_path):
    write(tmp_path, {"V1__a.sql": "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"})
    (migration,), _ = read(tmp_path, Config(flyway_mixed=True))
    assert migration.findings == []
    assert migration.in_transaction is False


def test_script_config_execute_in_transaction_overrides_and_lifts_the_refusal(tmp_path):
    write(tmp_path, {
        "V1__a.sql": "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
        "V1__a.sql.conf": "# per-script settings\nexecuteInTransaction=false\n",
        "V2__b.sql": "CREATE INDEX CONCURRENTLY b_id ON b (id);",
        "V2__b.sql.conf": "executeInTransaction = true",
    })
    first, second = read(tmp_path)[0]
    assert first.findings == [] and first.in_transaction is False
    assert first.transaction_reason == "V1__a.sql.conf sets executeInTransaction=false"
    # Flyway obeys the file even where PostgreSQL will then reject the statement.
    assert second.in_transaction is True


def test_global_execute_in_transaction_false(tmp_path):
    write(tmp_path, {"V1__a.sql": "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"})
    (migration,), _ = read(tmp_path, Config(transaction={"flyway": False}))
    assert migration.findings == []
    assert migration.in_transaction is False


def test_unknown_key_in_script_config_is_an_input_error(tmp_path):
    write(tmp_path, {
        "V1__a.sql": "CREATE INDEX CONCURRENTLY a_id ON a (id);",
        "V1__a.sql.conf": "mixed=true\n",
        "V2__b.sql": "SELECT 1;",
    })
    first, second = read(tmp_path)[0]
    (finding,) = first.findings
    assert (finding.rule, finding.name, finding.severity) == ("MS099", "input-error", "error")
    assert finding.path == str(tmp_path / "V1__a.sql.conf") and finding.line == 1
    assert "mixed" in finding.message and "main configuration" in finding.fix
    assert first.broken and not second.broken


def test_script_config_encoding_is_used_to_read_the_script(tmp_path):
    (tmp_path / "V1__a.sql").write_bytes("COMMENT ON TABLE t IS 'café';".encode("latin-1"))
    (tmp_path / "V1__a.sql.conf").write_text("encoding=ISO-8859-1\n")
    (migration,), _ = read(tmp_path)
    assert not migration.broken
    assert "café" in migration.text


def test_placeholders_with_values_and_built_ins(tmp_path):
    write(tmp_path, {"V1__a.sql": "SET search_path = ${flyway:defaultSchema};\n\nCREATE TABLE ${schema}.t (id int);\n"})
    (migration,), _ = read(tmp_path, Config(placeholders={"schema": "app"}))
    assert migration.findings == []
    assert migration.text == "SET search_path = public;\n\nCREATE TABLE app.t (id int);\n"
    assert [s.line for s in migration.statements] == [1, 3]
    assert all(s.parse_error is None for s in migration.statements)


def test_placeholder_without_value_is_substituted_and_reported(tmp_path):
    write(tmp_path, {"V1__a.sql": "SELECT 1;\nCREATE TABLE ${tenant_schema}.t (id int);\nSELECT 2;\n"})
    (migration,), _ = read(tmp_path)
    (finding,) = migration.findings
    assert (finding.rule, finding.name, finding.severity) == ("MS090", "placeholder-substituted", "info")
    assert (finding.line, finding.column) == (2, 14)
    assert "${tenant_schema}" in finding.message
    assert [s.line for s in migration.statements] == [1, 2, 3]
    assert migration.statements[1].parse_error is None
    assert len("${tenant_schema}") == len(migration.statements[1].sql.split()[2].split(".")[0])


def test_placeholder_replacement_can_be_turned_off_per_script(tmp_path):
    write(tmp_path, {"V1__a.sql": "SELECT '${kept}';", "V1__a.sql.conf": "placeholderReplacement=false"})
    (migration,), _ = read(tmp_path)
    assert migration.text == "SELECT '${kept}';" and migration.findings == []
