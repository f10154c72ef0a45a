"""No single statement ends the run: an unexpected error while one statement is analysed is an
MS088 finding on that statement, the other statements and files are still checked, and the
run exits 2 because the check is incomplete."""
from __future__ import annotations

import json

import pytest
from pglast.enums.parsenodes import AlterTableType as AT

from migrasafe import analyse, cli
from migrasafe.parse import parse_sql
from migrasafe.rules import base


def _json_run(capsys, *paths) -> tuple[int, dict]:
    code = cli.main(["check", "--format", "json", *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)


def _findings(report: dict) -> list[tuple[str, int, str]]:
    return sorted((m["path"].rsplit("/", 1)[-1], s["line"], f["rule"])
                  for m in report["migrations"] for s in m["statements"] for f in s["findings"])


def _write(tmp_path, name, text):
    folder = tmp_path / name.split(".")[0]
    folder.mkdir()
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def other_file(tmp_path):
    return _write(tmp_path, "other.sql", "CREATE INDEX orders_idx ON orders (customer_id);\n")


def test_enable_always_rule_beside_a_check_constraint_is_judged(tmp_path, capsys, other_file):
    # The MS021 fix renders the statement again with NOT VALID; ENABLE ALWAYS RULE had no printer.
    path = _write(tmp_path, "rule.sql", "ALTER TABLE t ENABLE ALWAYS RULE r, ADD CONSTRAINT c CHECK (a > 0);\n")
    code, report = _json_run(capsys, path, other_file)
    assert code == 1
    assert ("rule.sql", 1, "MS021") in _findings(report)
    assert ("other.sql", 1, "MS001") in _findings(report)
    fix = next(f["fix"] for m in report["migrations"] for s in m["statements"] for f in s["findings"]
               if f["rule"] == "MS021")
    assert fix.startswith("ALTER TABLE t ENABLE ALWAYS RULE r, ADD CONSTRAINT c CHECK (a > 0) NOT VALID;")
    rendered = parse_sql(fix.split("\n")[0])[0].stmt
    assert rendered.cmds[0].subtype == AT.AT_EnableAlwaysRule and rendered.cmds[1].def_.skip_validation


def test_table_named_as_its_own_partition_is_not_a_cycle(tmp_path, capsys, other_file):
    path = _write(tmp_path, "self.sql", "CREATE TABLE t1 PARTITION OF t1 DEFAULT; CREATE INDEX ON t1 (a);\n")
    code, report = _json_run(capsys, path, other_file)
    assert code == 1
    assert not [f for f in _findings(report) if f[2] == "MS088"]
    assert ("other.sql", 1, "MS001") in _findings(report)


def test_partitions_attached_in_a_circle_are_not_followed_forever(tmp_path, capsys):
    path = _write(tmp_path, "circle.sql", (
        "CREATE TABLE a (x int) PARTITION BY LIST (x);\n"
        "CREATE TABLE b PARTITION OF a FOR VALUES IN (1) PARTITION BY LIST (x);\n"
        "ALTER TABLE b ATTACH PARTITION a FOR VALUES IN (1);\n"
        "ALTER TABLE a ATTACH PARTITION a FOR VALUES IN (2);\n"
        "CREATE INDEX ON a (x);\nDROP TABLE a;\n"))
    code, report = _json_run(capsys, path)
    assert code == 0
    assert not [f for f in _findings(report) if f[2] == "MS088"]


def _failing(where: str):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{where} broke on purpose")
    return fail


@pytest.mark.parametrize("part", ["rule", "lock model", "catalog"])
def test_unexpected_error_is_a_finding_on_its_statement(tmp_path, capsys, monkeypatch, other_file, part):
    path = _write(tmp_path, "broken.sql", (
        "CREATE TABLE accounts (id int);\n"
        "ALTER TABLE orders ADD COLUMN note text;\n"
        "CREATE INDEX accounts_idx ON accounts (id);\n"))
    def on_alter(real, node_of):
        def wrapped(*args, **kwargs):
            if type(node_of(*args)).__name__ == "AlterTableStmt":
                raise RuntimeError(f"{part} broke on purpose")
            return real(*args, **kwargs)
        return wrapped

    if part == "rule":
        monkeypatch.setitem(base.DETECTORS, "MS012", on_alter(base.DETECTORS["MS012"], lambda ctx: ctx.node))
    elif part == "lock model":
        monkeypatch.setattr(analyse, "lock_impact", on_alter(analyse.lock_impact, lambda node, *rest: node))
    else:
        monkeypatch.setattr(analyse, "apply", on_alter(analyse.apply, lambda catalog, node: node))
    code, report = _json_run(capsys, path, other_file)
    assert code == 2
    found = _findings(report)
    assert ("broken.sql", 2, "MS088") in found
    assert ("other.sql", 1, "MS001") in found  # the other file is still checked and reported
    internal = next(f for m in report["migrations"] for s in m["statements"] for f in s["findings"]
                    if f["rule"] == "MS088")
    assert internal["severity"] == "error" and internal["name"] == "internal-error"
    assert f"{part} broke on purpose" in internal["message"]
    assert "report" in internal["fix"]
    assert report["verdict"] == "fail"
    # The statements after the failing one are still analysed, against the catalog so far.
    lines = [s["line"] for m in report["migrations"] if m["path"].endswith("broken.sql") for s in m["statements"]]
    assert lines == [1, 2, 3]


def test_internal_error_is_reported_whatever_is_selected(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, "broken.sql", "CREATE INDEX accounts_idx ON accounts (id);\n")
    monkeypatch.setattr(analyse, "lock_impact", _failing("lock model"))
    code = cli.main(["check", "--format", "json", "--ignore", "MS088", "--select", "MS001", str(path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 2
    assert [f[2] for f in _findings(report)] == ["MS088"]


def test_text_output_names_the_statement_and_no_traceback(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, "broken.sql", "SELECT 1;\nCREATE INDEX accounts_idx ON accounts (id);\n")
    real = analyse.lock_impact
    monkeypatch.setattr(analyse, "lock_impact", lambda node, *a, **k: _failing("lock model")()
                        if type(node).__name__ == "IndexStmt" else real(node, *a, **k))
    monkeypatch.delenv("MIGRASAFE_DEBUG", raising=False)
    assert cli.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "broken.sql:2:1: MS088 internal-error [error]" in out
    assert "Traceback" not in out + err
