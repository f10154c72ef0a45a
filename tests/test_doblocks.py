"""DO blocks: the statements inside are found with their own lines and columns in the file."""
from __future__ import annotations

from migrasafe.doblocks import read_block
from migrasafe.parse import split_statements

TEXT = """SET lock_timeout = '2s';
DO $body$
DECLARE n int;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'x') THEN
    ALTER TABLE users ADD COLUMN x int;
  END IF;
  FOR n IN 1..3 LOOP
    UPDATE users SET x = n WHERE id = n;
  END LOOP;
  EXECUTE 'DROP TABLE ' || 'y';
  PERFORM pg_sleep(0);
END
$body$;
"""


def test_statements_of_every_branch_with_their_places():
    do = split_statements(TEXT)[1]
    block = read_block(do)
    found = [(s.line, s.column, s.sql) for s in block.statements]
    assert found == [
        (6, 5, "ALTER TABLE users ADD COLUMN x int"),
        (9, 5, "UPDATE users SET x = n WHERE id = n"),
        # PERFORM runs its query as a SELECT, which is not in the text as such: its line, column 1.
        (12, 1, "SELECT pg_sleep(0)"),
    ]
    assert block.dynamic_lines == [11]
    assert block.error is None


def test_other_languages_and_statements_are_left_alone():
    assert read_block(split_statements("CREATE TABLE t (id int);")[0]) is None
    assert read_block(split_statements("DO LANGUAGE plperl $$ print 1 $$;")[0]) is None


def test_a_body_that_is_not_plpgsql_is_reported():
    block = read_block(split_statements("DO $$ BEGIN ALTER TABLE; END $$;")[0])
    assert block is not None and block.statements == [] and block.error


def test_a_statement_sql_alone_cannot_read_is_named_not_dropped(monkeypatch, tmp_path):
    from pglast import parser as pg

    from migrasafe import doblocks
    from migrasafe.check import run
    from migrasafe.config import Config

    real = pg.parse_sql

    def only_plpgsql_reads(sql):  # stands in for SQL that leans on PL/pgSQL's own syntax
        if sql.startswith("UPDATE users"):
            raise pg.ParseError("syntax error", 0)
        return real(sql)

    monkeypatch.setattr(doblocks.parser, "parse_sql", only_plpgsql_reads)
    (tmp_path / "001.sql").write_text("CREATE TABLE users (id int, x int);\n")
    (tmp_path / "002.sql").write_text("DO $$\nBEGIN\n  UPDATE users SET x = 1;\nEND\n$$;\n")
    notes = [f.message for f in run([str(tmp_path)], Config()).all_findings() if f.rule == "MS089"]
    assert notes == ["the DO block has statements only PL/pgSQL can read (line 3), which are not checked"]
