"""The issue's precision list: changes that are safe on a live table pass with no warning or
error, even in a migration that sets no lock_timeout (that is one MS032 info per migration)."""
from __future__ import annotations

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


def test_safe_changes_pass_without_warnings(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    for number, (name, sql) in enumerate(SAFE.items(), start=2):
        (tmp_path / f"{number:03d}_{name}.sql").write_text(sql + "\n")
    report = run([str(tmp_path)], Config(pg_version=16))
    loud = [f"{f.path}:{f.line} {f.rule} {f.severity}" for f in report.all_findings() if f.severity != "info"]
    assert loud == []
    assert verdict(report) == "pass"
    # The lock_timeout advice is still given, once for each migration that needs it.
    per_file = {}
    for f in report.all_findings():
        if f.rule == "MS032":
            per_file[f.path] = per_file.get(f.path, 0) + 1
    assert per_file and set(per_file.values()) == {1}
    assert not any("new_table_work" in path or "view_function" in path for path in per_file)


def test_lock_timeout_advice_fails_the_check_when_a_team_asks_for_it(tmp_path):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_widen.sql").write_text(SAFE["varchar_widening"] + "\n")
    report = run([str(tmp_path)], Config(severity={"MS032": "warning"}))
    assert [(f.rule, f.severity) for f in report.all_findings()] == [("MS032", "warning")]
    assert verdict(report) == "warn"


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
