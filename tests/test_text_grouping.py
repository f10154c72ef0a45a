"""Many findings of one rule in one migration: the text report shows the first few and counts
the rest; the summary, JSON and SARIF keep every one."""
from __future__ import annotations

import json
from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.report.text import GROUP_SHOWN, render_text

CASE = Path(__file__).resolve().parents[1] / "corpus" / "MS043-drop-table" / "flags-many-tables-dropped" / "migrations"


def test_twenty_dropped_tables_show_three_and_a_count():
    report = run([str(CASE)], Config())
    text = render_text(report)
    assert text.count(" MS043 drop-table [error]") == GROUP_SHOWN
    assert f"and {20 - GROUP_SHOWN} more MS043 drop-table findings like these in " in text
    # The summary still counts all of them (and MS031's one finding).
    assert text.splitlines()[-1].startswith("20 errors, 0 warnings, 1 info")  # the drops only touch the catalog
    assert sum(f.rule == "MS043" for f in report.all_findings()) == 20


def test_json_and_sarif_keep_every_finding(capsys):
    from migrasafe.cli import main

    main(["check", str(CASE), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert sum(f["rule"] == "MS043" for m in doc["migrations"] for s in m["statements"] for f in s["findings"]) == 20
    main(["check", str(CASE), "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    assert sum(r["ruleId"] == "MS043" for run_ in sarif["runs"] for r in run_["results"]) == 20


def test_a_few_findings_of_a_rule_are_all_shown(tmp_path):
    (tmp_path / "001_base.sql").write_text("".join(f"CREATE TABLE t{i} (id int);\n" for i in range(5)))
    (tmp_path / "002_drop.sql").write_text("SET lock_timeout = '2s';\n" + "".join(f"DROP TABLE t{i};\n" for i in range(5)))
    text = render_text(run([str(tmp_path)], Config()))
    assert text.count(" MS043 drop-table [error]") == 5
    assert "more MS043" not in text


RENAMES = CASE.parents[2] / "MS040-rename-column" / "flags-many-columns-renamed" / "migrations"


def test_a_hundred_renamed_columns_show_the_first_few_and_count_the_rest(capsys):
    from migrasafe.cli import main

    report = run([str(RENAMES)], Config())
    assert sum(f.rule == "MS040" for f in report.all_findings()) == 100
    text = render_text(report)
    assert text.count(" MS040 rename-column [") == GROUP_SHOWN
    assert text.count("and 97 more MS040 rename-column findings like these in ") == 1
    assert GROUP_SHOWN == 3  # the 97 above
    for i in range(1, GROUP_SHOWN + 1):
        assert f"c{i:03d}" in text
    assert "c004" not in text and "c100" not in text  # grouped, not printed
    main(["check", str(RENAMES), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    renames = [f for m in doc["migrations"] for s in m["statements"] for f in s["findings"] if f["rule"] == "MS040"]
    assert len(renames) == 100
    assert all(any(f"c{i:03d}" in f["message"] for f in renames) for i in range(1, 101))
