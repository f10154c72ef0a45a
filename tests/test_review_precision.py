"""Cases a review of real histories found: what a statement really blocks when its own lock, or
one the transaction already holds on the table, is AccessExclusiveLock; a DROP INDEX under such
a lock adds nothing; the default dropped from a column the same migration adds."""
from __future__ import annotations

from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config

SETUP = ("CREATE TABLE a (id bigint PRIMARY KEY);\n"
         "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint, CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES a);\n"
         "CREATE INDEX b_a ON b (a_id);\n")


def findings(tmp_path: Path, sql: str):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(sql)
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    return [(f.line, f.rule, f.severity, f.message) for f in report.all_findings()
            if Path(f.path).name == "002_change.sql"]


def test_a_foreign_key_replaced_in_one_alter_blocks_reads_too(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b DROP CONSTRAINT b_a_fk, "
                               "ADD CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES a ON DELETE CASCADE;\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS020"]
    assert "blocking reads and writes on public.b and public.a" in message


def test_a_foreign_key_added_alone_blocks_writes(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b ADD CONSTRAINT b_a_fk2 FOREIGN KEY (a_id) REFERENCES a;\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS020"]
    assert "blocking writes on public.b and public.a" in message


def test_drop_and_create_index_in_one_transaction(tmp_path):
    found = findings(tmp_path, "BEGIN;\nDROP INDEX b_a;\nCREATE INDEX b_a ON b (a_id);\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS001", "MS002")] == [
        (2, "MS002", "warning"), (3, "MS001", "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS001"]
    assert "already holds AccessExclusiveLock on it, since line 2, so reads wait too" in message


def test_drop_index_under_a_held_exclusive_lock_is_info(tmp_path):
    found = findings(tmp_path, "BEGIN;\nALTER TABLE b ADD COLUMN note text;\nDROP INDEX b_a;\nCOMMIT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS002"] == [(3, "info")]


def test_dropping_the_default_of_a_column_this_migration_adds_is_an_error(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"
                               "ALTER TABLE b ALTER COLUMN flag DROP DEFAULT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS046"] == [(2, "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS046"]
    assert "which this migration adds" in message
