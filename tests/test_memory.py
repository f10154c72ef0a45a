"""A large migration file costs a few times its text, not the twenty times its syntax trees
would: it is split a piece at a time, each statement's tree is built when it is analysed and
dropped after, and the JSON report is written as it is encoded. None of it changes what is
reported. (bench/memory.py measures the peak on a 50 MB file.)"""
from __future__ import annotations

import json
import pickle
import sys
import tracemalloc
from pathlib import Path

import pytest
from pglast import parser

from migrasafe import packed, parse
from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.model import UNPARSED
from migrasafe.report.json import render_json, render_json_chunks, report_to_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from run import Generator  # noqa: E402  bench/run.py's generator of valid migrations

TRICKY = """CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1;
  RETURN 2;
END $$;
CREATE TABLE t (a text DEFAULT 'one;
two');
/* a comment;
with a semicolon */ CREATE INDEX i ON t (a);
-- a line comment;
CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO t VALUES ('x');
  INSERT INTO t VALUES ('y'));
CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC
  SELECT 1;
  SELECT 2;
END;
SELECT E'it\\'s;
still a string';
DO $body$ BEGIN RAISE NOTICE 'a;
b'; END $body$;
SELECT 'é;
ü' AS "naïve;
name";
ALTER TABLE t ADD COLUMN b int
"""


def whole(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.stop) for s in parser.split(text, with_parser=True, only_slices=True)]


@pytest.mark.parametrize("chunk", [1, 7, 40, 1 << 20])
def test_splitting_a_piece_at_a_time_finds_the_statements_splitting_it_whole_does(monkeypatch, chunk):
    monkeypatch.setattr(parse, "_CHUNK", chunk)
    assert parse._statement_slices(TRICKY) == whole(TRICKY)
    text = "\n\n".join(Generator(7).statement()[1] for _ in range(300))
    assert parse._statement_slices(text) == whole(text)


def test_a_text_that_does_not_parse_is_split_one_bad_statement_at_a_time(monkeypatch):
    monkeypatch.setattr(parse, "_CHUNK", 16)
    statements = parse.split_statements("SELECT 1;\nSELEC 2;\nCREATE TABLE t (a int);\n")
    assert [s.node is None for s in statements] == [False, True, False]
    assert parse._statement_slices("SELECT 1;\nSELEC 2;\n") is None


def _big_file(tmp_path: Path, statements: int) -> Path:
    gen = Generator(20240601)
    path = tmp_path / "migrations" / "0001_big.sql"
    path.parent.mkdir()
    path.write_text("\n\n".join(gen.statement()[1] for _ in range(statements)) + "\n", encoding="utf-8")
    return path


def test_trees_are_dropped_after_the_analysis_and_built_again_when_read(tmp_path):
    path = _big_file(tmp_path, 400)
    report = run([str(path)], Config())
    statements = [a.statement for r in report.results for a in r.statements]
    assert len(statements) == 400
    assert all(s._node is UNPARSED for s in statements)
    again = statements[5].node
    assert type(again).__name__ in ("CreateStmt", "AlterTableStmt", "IndexStmt", "InsertStmt", "UpdateStmt",
                                    "CommentStmt", "ViewStmt", "DropStmt", "VariableSetStmt")
    assert pickle.loads(pickle.dumps(statements[5])).node == again  # UNPARSED survives a pickle


def test_json_written_in_pieces_is_the_json_encoded_at_once(tmp_path):
    path = _big_file(tmp_path, 1500)
    report = run([str(path)], Config())
    at_once = json.dumps(report_to_json(report), ensure_ascii=False, separators=(",", ":")) + "\n"
    pieces = list(render_json_chunks(report))
    assert len(pieces) > 3  # the statements came in several pieces
    assert "".join(pieces) == at_once == render_json(report)


def test_memory_of_a_large_file_stays_a_few_times_its_text(tmp_path):
    path = _big_file(tmp_path, 6000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        report = run([str(path)], Config())
        retained, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in render_json_chunks(report):
            pass
        _, writing = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The trees alone would be about twenty times the text; what stays is the text and small
    # per-statement records, and writing the report adds a piece at a time.
    assert retained < 20 * size, retained / size
    assert writing - retained < 2 * size, (writing - retained) / size


def _peak_per_byte(path: Path, config: Config) -> float:
    tracemalloc.start()
    try:
        run([str(path)], config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / path.stat().st_size


def test_the_result_cache_adds_nothing_per_byte_for_a_migration_too_large_to_store(tmp_path, monkeypatch):
    from migrasafe.cache import run as cached_run

    # Encoding a result as one JSON document costs about thirty times the text: a migration
    # with more SQL than the limit is analysed every run instead of stored.
    monkeypatch.setattr(cached_run, "MAX_STORED_SQL", 100_000)
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(tmp_path / "cache"))
    path = _big_file(tmp_path, 4000)
    assert path.stat().st_size > 3 * cached_run.MAX_STORED_SQL
    without = _peak_per_byte(path, Config(cache=False))
    with_cache = _peak_per_byte(path, Config(cache=True))
    assert with_cache < without * 1.2, (with_cache, without)
    assert not list((tmp_path / "cache" / "result").rglob("*.json")), "the large result was stored"


def _retained_per_byte(path: Path) -> float:
    tracemalloc.start()
    try:
        report = run([str(path)], Config(cache=False))
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(report.results[0].statements) == 6000
    return retained / path.stat().st_size


def test_a_migration_held_as_columns_keeps_a_fraction_of_its_objects(tmp_path, monkeypatch):
    # A Statement and an AnalysedStatement per statement, with their line numbers, take about
    # three times the text; as columns (packed/) they take a few bytes a statement.
    path = _big_file(tmp_path, 6000)
    monkeypatch.setattr(packed, "PACK_AT", 1)
    run([str(path)], Config(cache=False))  # what a first run imports is not counted
    monkeypatch.setattr(packed, "PACK_AT", 1000)
    columns = _retained_per_byte(path)
    monkeypatch.setattr(packed, "PACK_AT", 10 ** 9)
    objects = _retained_per_byte(path)
    assert columns < 0.75 * objects, (columns, objects)
