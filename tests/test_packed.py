"""A migration analysed into columns (migrasafe/packed/) reports exactly what one analysed into
objects reports, in every format and after every step that changes findings; its statements
read, compare, copy and change like the objects they stand for."""
from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import pytest

from migrasafe import api, packed
from migrasafe.baseline import write_baseline
from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.model import AnalysedStatement, Statement
from migrasafe.packed.analysed import AnalysedRow, PackedAnalysed
from migrasafe.packed.statements import PackedStatements, StatementRow
from migrasafe.report import render_chunks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from run import Generator  # noqa: E402  bench/run.py's generator of valid migrations

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = sorted(str(p / "migrations") for p in CORPUS.glob("*/*") if (p / "migrations").is_dir())
FORMATS = ("json", "text", "sarif", "github", "gitlab", "junit", "markdown")

# What the generator does not write: a DO block, a statement that does not parse, suppressions.
ODD = """
DO $$ BEGIN ALTER TABLE users ADD COLUMN odd_flag boolean DEFAULT random() > 0.5; END $$;

ALTER TABLE users ALTER COLUMN name SET NOT NULL; -- migrasafe: ignore MS024 -- checked by hand

CREATE TABLE broken (id int,);

-- migrasafe: ignore-file MS032 -- the runner sets lock_timeout
"""


def big_file(tmp_path: Path, statements: int = 1500) -> Path:
    gen = Generator(20240601)
    path = tmp_path / "migrations" / "0001_big.sql"
    path.parent.mkdir(parents=True)
    path.write_text("\n\n".join(gen.statement()[1] for _ in range(statements)) + ODD, encoding="utf-8")
    return path


def renders(report) -> dict[str, str]:
    return {fmt: "".join(render_chunks(report, fmt, color=False)) for fmt in FORMATS}


@pytest.fixture
def packing(monkeypatch):
    """Every migration of the run held as columns."""
    monkeypatch.setattr(packed, "PACK_AT", 1)


def test_columns_report_what_objects_report_in_every_format(tmp_path, monkeypatch):
    path = big_file(tmp_path)
    baseline = tmp_path / "baseline.json"
    write_baseline(run([str(path)], Config(cache=False)), baseline)
    paths = [str(path), *CASES]
    plain = api.check(paths, config=Config(cache=False), baseline=baseline)
    assert isinstance(plain.results[0].statements, list)
    expected = renders(plain)
    monkeypatch.setattr(packed, "PACK_AT", 1)
    columns = api.check(paths, config=Config(cache=False), baseline=baseline)
    assert isinstance(columns.results[0].statements, PackedAnalysed)
    assert isinstance(columns.results[0].migration.statements, PackedStatements)
    assert len(columns.results) == len(plain.results) > 400
    assert '"rule":"MS000"' in expected["json"] and "MS089" in expected["json"]  # the odd statements count
    got = renders(columns)
    for fmt in FORMATS:
        assert got[fmt] == expected[fmt], fmt
    assert columns.all_findings() == plain.all_findings()


def test_a_row_is_one_object_while_referenced_and_reads_as_its_statement(tmp_path, monkeypatch):
    path = big_file(tmp_path, 300)
    plain = run([str(path)], Config(cache=False)).results[0]
    monkeypatch.setattr(packed, "PACK_AT", 1)
    result = run([str(path)], Config(cache=False)).results[0]
    statements, analysed = result.migration.statements, result.statements
    row = analysed[7]
    assert isinstance(row, AnalysedRow) and isinstance(row, AnalysedStatement)
    assert analysed[7] is row and analysed[-len(analysed) + 7] is row
    assert row.statement is statements[7] and isinstance(row.statement, StatementRow)
    assert [a.statement.index for a in analysed[5:9]] == [5, 6, 7, 8]
    assert analysed == plain.statements and statements == plain.migration.statements
    for a, b in zip(analysed, plain.statements):
        assert (a.statement.sql, a.statement.line, a.statement.end_line, a.impact, a.live, a.in_transaction,
                a.strong_lock_held) == (b.statement.sql, b.statement.line, b.statement.end_line, b.impact, b.live,
                                        b.in_transaction, b.strong_lock_held)
    with pytest.raises(IndexError):
        analysed[len(analysed)]


def test_what_is_assigned_to_a_row_stays_once_the_row_is_gone(tmp_path, packing):
    result = run([str(big_file(tmp_path, 300))], Config(cache=False)).results[0]
    analysed, statements = result.statements, result.migration.statements
    finding = next(f for f in result.all_findings())
    row = analysed[3]
    assert row.findings == [] and row.observed is None
    with pytest.raises(TypeError):
        row.findings.append(finding)  # the shared empty list: a row keeps no empty list of its own
    row.findings += [finding]
    row.observed = {"duration_ms": 1.5}
    row.statement.origin_path = "db/versions/0001.py"
    row.statement.line = 10 ** 12  # more than the line column holds
    del row
    again = analysed[3]
    assert again.findings == [finding] and again.observed == {"duration_ms": 1.5}
    assert statements[3].origin_path == "db/versions/0001.py" and statements[3].line == 10 ** 12
    again.findings = []
    del again
    assert analysed[3].findings == [] and analysed[3].observed == {"duration_ms": 1.5}


def test_a_copy_or_a_pickle_of_a_row_is_a_plain_object(tmp_path, packing):
    result = run([str(big_file(tmp_path, 300))], Config(cache=False)).results[0]
    row = result.statements[11]
    for made in (pickle.loads(pickle.dumps(row)), copy.deepcopy(row)):
        assert type(made) is AnalysedStatement and type(made.statement) is Statement
        assert made == row and row == made
        assert made.statement.sql == row.statement.sql and made.statement.node == row.statement.node
