"""The precision list: changes that are safe on a live table pass with no warning or error
once a lock_timeout is in force (set by the migration, or by the runner as the configuration
says). Without one, the only warning is MS032's, once per migration that requests
AccessExclusiveLock on a live table."""
from __future__ import annotations

from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.verdict import verdict

BASE = """CREATE TABLE orders (id bigint PRIMARY KEY, name varchar(50), amount numeric(10,2),
                     note text, customer_id bigint, placed_at timestamp);
CREATE TABLE customers (id bigint PRIMARY KEY);
ALTER TABLE orders ADD CONSTRAINT orders_note_nn CHECK (note IS NOT NULL);
CREATE UNIQUE INDEX CONCURRENTLY orders_name_ux ON orders (name);
CREATE TYPE mood AS ENUM ('calm');
CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
"""

SAFE = {
    "varchar_widening": "ALTER TABLE orders ALTER COLUMN name TYPE varchar(100);",
    "varchar_to_text": "ALTER TABLE orders ALTER COLUMN name TYPE text;",
    "numeric_precision": "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2);",
    "constant_default": "ALTER TABLE orders ADD COLUMN flag boolean NOT NULL DEFAULT false;",
    "not_null_backed_by_check": "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    "fk_not_valid": "ALTER TABLE orders ADD CONSTRAINT orders_c_fk FOREIGN KEY (customer_id) "
                    "REFERENCES customers (id) NOT VALID;",
    "check_not_valid": "ALTER TABLE orders ADD CONSTRAINT orders_amount_ck CHECK (amount >= 0) NOT VALID;",
    "unique_using_index": "ALTER TABLE orders ADD CONSTRAINT orders_name_key UNIQUE USING INDEX orders_name_ux;",
    "index_concurrently": "CREATE INDEX CONCURRENTLY orders_customer_ix ON orders (customer_id);",
    "view_function_schema": "CREATE VIEW recent AS SELECT id FROM orders;\nCREATE SCHEMA audit;\n"
                            "CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
                            "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    "comment_grant_statistics": "COMMENT ON TABLE orders IS 'x';\nGRANT SELECT ON orders TO PUBLIC;\n"
                                "ALTER TABLE orders ALTER COLUMN amount SET STATISTICS 500;",
    "enum_add_value": "ALTER TYPE mood ADD VALUE 'happy';",
    "detach_concurrently": "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;",
    "new_table_work": "CREATE TABLE tags (id bigint, label text);\nCREATE INDEX tags_label ON tags (label);\n"
                      "ALTER TABLE tags ADD COLUMN at timestamptz DEFAULT now();\n"
                      "INSERT INTO tags VALUES (1, 'a');",
}


def write_safe_history(folder, preamble: str = "") -> None:
    (folder / "001_base.sql").write_text(BASE)
    for number, (name, sql) in enumerate(SAFE.items(), start=2):
        (folder / f"{number:03d}_{name}.sql").write_text(preamble + sql + "\n")


def loud(report) -> list[str]:
    return [f"{f.path}:{f.line} {f.rule} {f.severity}" for f in report.all_findings() if f.severity != "info"]


def test_safe_changes_pass_when_the_runner_sets_a_lock_timeout(tmp_path):
    write_safe_history(tmp_path)
    report = run([str(tmp_path)], Config(pg_version=16, lock_timeout="2s"))
    assert loud(report) == []
    assert not [f for f in report.all_findings() if f.rule == "MS032"]
    assert verdict(report) == "pass"


def test_safe_changes_pass_when_each_migration_sets_a_lock_timeout(tmp_path):
    write_safe_history(tmp_path, preamble="SET lock_timeout = '2s';\n")
    report = run([str(tmp_path)], Config(pg_version=16))
    assert loud(report) == []
    assert verdict(report) == "pass"


def test_without_a_lock_timeout_the_only_warning_is_ms032_once_per_exclusive_migration(tmp_path):
    write_safe_history(tmp_path)
    report = run([str(tmp_path)], Config(pg_version=16))
    assert {line.split(" ")[1] for line in loud(report)} == {"MS032"}
    per_file: dict[str, list[str]] = {}
    for f in report.all_findings():
        if f.rule == "MS032":
            per_file.setdefault(Path(f.path).stem.split("_", 1)[1], []).append(f.severity)
    assert all(len(severities) == 1 for severities in per_file.values()), per_file
    # ACCESS EXCLUSIVE on the live orders table: the lock-queue outage.
    for name in ("varchar_widening", "constant_default", "check_not_valid", "unique_using_index"):
        assert per_file[name] == ["warning"], name
    # SHARE ROW EXCLUSIVE queues only writers: advice, not a failure.
    assert per_file["fk_not_valid"] == ["info"]
    # What locks only new relations, or nothing that blocks reads or writes, gets nothing.
    assert not {"new_table_work", "view_function_schema", "index_concurrently", "enum_add_value",
                "comment_grant_statistics"} & set(per_file)


def test_lock_timeout_zero_or_above_the_ceiling_counts_as_none(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_zero.sql").write_text("SET lock_timeout = 0;\n" + SAFE["varchar_widening"] + "\n")
    (tmp_path / "003_long.sql").write_text("SET lock_timeout = '30s';\n" + SAFE["constant_default"] + "\n")
    (tmp_path / "004_ok.sql").write_text("SET lock_timeout = '30s';\n" + SAFE["varchar_to_text"] + "\n")
    findings = lambda config: {Path(f.path).name: f for f in run([str(tmp_path)], config).all_findings()
                               if f.rule == "MS032"}
    found = findings(Config())
    assert set(found) == {"002_zero.sql", "003_long.sql", "004_ok.sql"}
    assert "lock_timeout 0" in found["002_zero.sql"].message
    assert "longer than the 10s max_lock_timeout" in found["003_long.sql"].message
    # A raised ceiling admits the 30s, and the migration's own 0 still overrides the runner's.
    assert set(findings(Config(max_lock_timeout="1min", lock_timeout="2s"))) == {"002_zero.sql"}


def test_lock_timeout_per_layout(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_widen.sql").write_text(SAFE["varchar_widening"] + "\n")
    rules = lambda config: [f.rule for f in run([str(tmp_path)], config).all_findings()]
    assert rules(Config(lock_timeout={"flyway": "2s"})) == ["MS032"]
    assert rules(Config(lock_timeout={"flyway": "2s", "default": "3s"})) == []
    assert rules(Config(lock_timeout={"sql": "2s"})) == []


def test_lock_timeout_advice_fails_the_check_when_a_team_asks_for_it(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_fk.sql").write_text(SAFE["fk_not_valid"] + "\n")
    assert [(f.rule, f.severity) for f in run([str(tmp_path)], Config()).all_findings()] == [("MS032", "info")]
    report = run([str(tmp_path)], Config(severity={"MS032": "warning"}))
    assert [(f.rule, f.severity) for f in report.all_findings()] == [("MS032", "warning")]
    assert verdict(report) == "warn"
    report = run([str(tmp_path)], Config(severity={"MS032": "info"}, lock_timeout=None))
    assert verdict(report) == "pass"


def test_findings_from_the_sources_follow_select_ignore_and_severity(tmp_path):
    (tmp_path / "001_base.sql").write_text("\\set ON_ERROR_STOP on\nCREATE TABLE t (id int);\n")
    rules = lambda config: [(f.rule, f.severity) for f in run([str(tmp_path)], config).all_findings()]
    assert rules(Config()) == [("MS091", "info")]
    assert rules(Config(ignore=["MS091"])) == []
    assert rules(Config(select=["MS001"])) == []
    assert rules(Config(severity={"MS091": "warning"})) == [("MS091", "warning")]


def test_input_errors_cannot_be_ignored(tmp_path):
    (tmp_path / "001_bad.sql").write_text("CREATE TABLE (;\n")
    report = run([str(tmp_path), str(tmp_path / "missing")], Config(ignore=["MS000", "MS099"], select=["MS001"]))
    assert sorted(f.rule for f in report.all_findings()) == ["MS000", "MS099"]


def test_a_more_severe_request_later_in_the_migration_is_reported_too(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_two.sql").write_text(SAFE["fk_not_valid"] + "\n" + SAFE["check_not_valid"] + "\n"
                                          + SAFE["varchar_widening"] + "\n")
    found = [(f.line, f.severity) for f in run([str(tmp_path)], Config()).all_findings() if f.rule == "MS032"]
    assert found == [(1, "info"), (2, "warning")]


def test_lock_timeout_settings_are_validated(tmp_path):
    import pytest

    from migrasafe.config import ConfigError, config_from_table

    where = tmp_path / "migrasafe.toml"
    assert config_from_table({"lock_timeout": {"flyway": "2s", "default": 1500}}, where).lock_timeout
    for table, message in (
        ({"lock_timeout": "soon"}, 'lock_timeout must be a duration such as "2s"'),
        ({"lock_timeout": True}, "lock_timeout must be a duration"),
        ({"lock_timeout": {"mybatis": "2s"}}, "lock_timeout.mybatis: unknown layout"),
        ({"lock_timeout": {"flyway": "2 parsecs"}}, "lock_timeout.flyway must be a duration"),
        ({"max_lock_timeout": 0}, "max_lock_timeout must be more than 0"),
    ):
        with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
            config_from_table(table, where)
