"""Calls of routines the history created: judged as the data changes their bodies make, at the call."""
from __future__ import annotations

from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config

SETUP = """CREATE TABLE usage_resets (id bigint PRIMARY KEY, anchor timestamptz);
CREATE TABLE audit (id bigint PRIMARY KEY, note text);
"""


def _check(tmp_path: Path, *migrations: str):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_setup.sql").write_text(SETUP)
    for number, text in enumerate(migrations, 2):
        (folder / f"{number:03d}_m.sql").write_text(text)
    report = run([str(folder)], Config(pg_version=16))
    last = report.results[-1]
    return last, [(f.line, f.rule, f.message) for f in last.all_findings() if f.rule in ("MS030", "MS033")]


def _locks(result, line):
    return {l.relation: l.mode for a in result.statements if a.statement.line == line for l in a.impact.locks}


BACKFILL = """CREATE FUNCTION backfill_periods(batch int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_resets SET anchor = now() WHERE anchor IS NULL;
END $$;
"""


def test_call_under_the_alter_tables_lock_is_a_backfill_under_it(tmp_path):
    result, found = _check(tmp_path, "BEGIN;\nALTER TABLE usage_resets ADD COLUMN period interval;\n" + BACKFILL
                           + "SELECT backfill_periods(2000);\nCOMMIT;\n")
    assert [(line, rule) for line, rule, _ in found] == [(7, "MS030")]
    assert found[0][2].startswith("UPDATE in function backfill_periods (line 5) on live table public.usage_resets")
    assert _locks(result, 7) == {"public.usage_resets": "RowExclusiveLock"}
    finding = next(f for f in result.all_findings() if f.rule == "MS030")
    assert finding.span is not None and "SELECT backfill_periods(2000)"[slice(*finding.span)] == "backfill_periods"


def test_a_function_of_an_earlier_migration_names_its_file(tmp_path):
    _, found = _check(tmp_path, BACKFILL, "SELECT backfill_periods(10);\n")
    assert [(line, rule) for line, rule, _ in found] == [(1, "MS033")]
    assert "UPDATE in function backfill_periods (line 3 of 002_m.sql) of live table public.usage_resets" in found[0][2]


def test_perform_in_a_do_block_and_calls_inside_the_body(tmp_path):
    outer = ("CREATE FUNCTION run_all() RETURNS void LANGUAGE sql AS $$ SELECT backfill_periods(1) $$;\n"
             "BEGIN;\nLOCK TABLE usage_resets IN ACCESS EXCLUSIVE MODE;\nDO $$\nBEGIN\n  PERFORM run_all();\nEND $$;\n"
             "COMMIT;\n")
    result, found = _check(tmp_path, BACKFILL, outer)
    assert [(line, rule) for line, rule, _ in found] == [(6, "MS030")]
    assert _locks(result, 4) == {"public.usage_resets": "RowExclusiveLock"}


def test_a_key_pinned_by_a_parameter_is_one_row(tmp_path):
    one = """CREATE FUNCTION touch(account bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_resets SET anchor = now() WHERE id = account;
END $$;
BEGIN;
ALTER TABLE usage_resets ADD COLUMN period interval;
SELECT touch(7);
COMMIT;
"""
    result, found = _check(tmp_path, one)
    assert found == []
    assert _locks(result, 7) == {"public.usage_resets": "RowExclusiveLock"}


def test_procedures_and_their_commits(tmp_path):
    procs = """CREATE PROCEDURE fill() LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (id, note) SELECT id, 'x' FROM usage_resets;
END $$;
CREATE PROCEDURE fill_in_batches() LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_resets SET anchor = now();
  COMMIT;
END $$;
CALL fill();
CALL fill_in_batches();
SELECT fill();
"""
    result, found = _check(tmp_path, procs)
    assert [(line, rule) for line, rule, _ in found] == [(10, "MS033")]
    assert found[0][2].startswith("INSERT ... SELECT in procedure fill (line 3) copies live table")
    assert _locks(result, 10) == {"public.audit": "RowExclusiveLock", "public.usage_resets": "AccessShareLock"}
    assert _locks(result, 11) == {}  # it commits part-way: not one transaction, not claimed


def test_trigger_functions_ddl_reads_and_dropped_functions_add_nothing(tmp_path):
    text = """CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit SET note = 'x';
  RETURN NEW;
END $$;
CREATE FUNCTION widen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ALTER TABLE audit ADD COLUMN extra int;
END $$;
CREATE FUNCTION gone() RETURNS void LANGUAGE sql AS $$ DELETE FROM audit $$;
DROP FUNCTION gone();
CREATE FUNCTION other() RETURNS void LANGUAGE plperl AS $$ 1 $$;
SELECT widen();
SELECT gone();
SELECT other();
"""
    result, found = _check(tmp_path, text)
    assert found == []
    assert all(_locks(result, line) == {} for line in (13, 14, 15))


def test_replaced_in_another_language_is_unknown_again(tmp_path):
    text = BACKFILL + "CREATE OR REPLACE FUNCTION backfill_periods(batch int) RETURNS void LANGUAGE plperl AS $$ 1 $$;\n" \
        "SELECT backfill_periods(1);\n"
    result, found = _check(tmp_path, text)
    assert found == [] and _locks(result, 6) == {}


def test_a_temp_table_the_body_creates_is_not_live_and_one_table_gets_one_finding(tmp_path):
    body = """CREATE FUNCTION move_batch(batch int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMP TABLE picked (id bigint) ON COMMIT DROP;
  INSERT INTO picked SELECT id FROM usage_resets LIMIT batch;
  UPDATE usage_resets SET anchor = now() WHERE id IN (SELECT id FROM picked);
  INSERT INTO usage_resets (id) SELECT id + 1000000 FROM picked;
END $$;
"""
    result, found = _check(tmp_path, "BEGIN;\nALTER TABLE usage_resets ADD COLUMN period interval;\n" + body
                           + "SELECT move_batch(100);\nCOMMIT;\n")
    assert [(line, rule) for line, rule, _ in found] == [(10, "MS030")]
    message = found[0][2]
    assert message.startswith("UPDATE in function move_batch (line 7) on live table public.usage_resets")
    assert message.endswith("; so does the INSERT at line 8")
    assert "picked" not in message
    assert "public.picked" not in _locks(result, 10)


def test_call_of_a_procedure_in_a_do_block(tmp_path):
    procedure = ("CREATE PROCEDURE reset_all() LANGUAGE plpgsql AS $$\nBEGIN\n"
                 "  UPDATE usage_resets SET anchor = NULL;\nEND $$;\n")
    result, found = _check(tmp_path, procedure, "DO $$\nBEGIN\n  CALL reset_all();\nEND $$;\n")
    assert [(line, rule) for line, rule, _ in found] == [(3, "MS033")]
    assert found[0][2].startswith("UPDATE in procedure reset_all (line 3 of 002_m.sql) of every row of live table "
                                  "public.usage_resets")
    assert _locks(result, 1) == {"public.usage_resets": "RowExclusiveLock"}
