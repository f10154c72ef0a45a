"""The JSON report writes a plain statement record as text (report/json.py _StatementEncoder):
it must be the same bytes as the general encoding of statement_to_json, for every statement of
every labelled corpus case."""
from __future__ import annotations

from corpus_cases import all_cases

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.report import json as report_json


def test_the_statement_text_is_the_general_encoding_of_its_record():
    encoder, compared = report_json._StatementEncoder(), 0
    for case in all_cases():
        report = run([str(case.folder / "migrations")], Config(pg_version=case.expected.get("pg_version", 16)))
        for result in report.results:
            for analysed in result.statements:
                general = report_json._dumps(report_json.statement_to_json(analysed))
                assert encoder.encode(analysed) == general, (case.name, analysed.statement.line)
                compared += 1
    assert compared > 1000
