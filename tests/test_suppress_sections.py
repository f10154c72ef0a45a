"""Suppressions in a file whose migration is a section of it (dbmate's `-- migrate:up`)."""
from __future__ import annotations

from migrasafe.check import run
from migrasafe.config import Config


def test_a_directive_after_a_header_applies_to_the_statement_below_it(tmp_path):
    (tmp_path / "20240101000000_a.sql").write_text("-- migrate:up\nCREATE TABLE t (id int, c int);\n-- migrate:down\n")
    (tmp_path / "20240102000000_b.sql").write_text(
        "-- a header of two\n-- comment lines\n-- migrate:up\nSET lock_timeout = '2s';\n"
        "-- migrasafe: ignore MS042 -- nothing reads c any more\nALTER TABLE t DROP COLUMN c;\n-- migrate:down\n")
    report = run([str(tmp_path)], Config())
    assert [(f.rule, f.line) for f in report.all_findings()] == []


def test_an_unused_directive_is_reported_on_its_own_line(tmp_path):
    (tmp_path / "20240101000000_a.sql").write_text("-- migrate:up\nCREATE TABLE t (id int, c int);\n-- migrate:down\n")
    (tmp_path / "20240102000000_b.sql").write_text(
        "-- header\n-- migrate:up\n-- migrasafe: ignore MS001 -- no index here\nSELECT 1;\n-- migrate:down\n")
    report = run([str(tmp_path)], Config())
    assert [(f.rule, f.line) for f in report.all_findings()] == [("MS092", 3)]
