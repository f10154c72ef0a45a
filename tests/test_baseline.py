"""`migrasafe baseline` records today's findings; later checks report only new ones."""
import json

import pytest

from migrasafe import cli

CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
OLD_BAD = "CREATE INDEX orders_note_idx ON orders (note);\n"
NEW_BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create.sql").write_text(CREATE)
    (folder / "V2__old.sql").write_text(OLD_BAD)
    return folder


def check(capsys, *argv):
    code = cli.main(["check", "migrations", "--format", "json", *argv])
    out = capsys.readouterr()
    data = json.loads(out.out)
    rules = [(m["path"], f["rule"]) for m in data["migrations"] for s in m["statements"] for f in s["findings"]]
    return code, rules, data["findings"]


def test_baseline_records_findings_and_hides_them(project, capsys):
    assert cli.main(["baseline", "migrations"]) == 0
    assert "recorded 2 findings of 2 migrations in migrasafe-baseline.json" in capsys.readouterr().err
    recorded = json.loads((project.parent / "migrasafe-baseline.json").read_text())
    assert {(e["path"], e["rule"]) for e in recorded["findings"]} == {
        ("migrations/V2__old.sql", "MS001"), ("migrations/V2__old.sql", "MS032"),
    }
    code, rules, run_findings = check(capsys, "--baseline", "migrasafe-baseline.json")
    assert (code, rules, run_findings) == (0, [], [])


def test_new_findings_are_still_reported(project, capsys):
    cli.main(["baseline", "migrations"])
    (project / "V3__new.sql").write_text(NEW_BAD)
    code, rules, _ = check(capsys, "--baseline", "migrasafe-baseline.json")
    assert code == 1
    assert sorted(rules) == [("migrations/V3__new.sql", "MS001"), ("migrations/V3__new.sql", "MS032")]


def test_moving_a_recorded_statement_keeps_it_hidden(project, capsys):
    cli.main(["baseline", "migrations"])
    (project / "V2__old.sql").write_text("-- explained at length\n\n\n" + OLD_BAD.replace(" ON", "\n    ON"))
    code, rules, findings = check(capsys, "--baseline", "migrasafe-baseline.json")
    assert (code, rules, findings) == (0, [], [])


def test_fixed_statements_leave_stale_entries(project, capsys):
    cli.main(["baseline", "migrations"])
    (project / "V2__old.sql").write_text(OLD_BAD.replace("INDEX", "INDEX CONCURRENTLY"))
    code, rules, findings = check(capsys, "--baseline", "migrasafe-baseline.json")
    assert rules == []
    assert [(f["rule"], f["severity"], f["path"]) for f in findings] == [
        ("MS094", "info", "migrasafe-baseline.json"), ("MS094", "info", "migrasafe-baseline.json"),
    ]
    assert "migrations/V2__old.sql" in findings[0]["message"]
    assert code == 0  # info is below the default fail_on


def test_entries_of_migrations_not_checked_are_not_stale(project, capsys):
    other = project.parent / "other"
    other.mkdir()
    (other / "V1__t.sql").write_text("CREATE TABLE t (id int);\n")
    cli.main(["baseline", "migrations"])
    assert cli.main(["check", "other", "--format", "json", "--baseline", "migrasafe-baseline.json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_entries_of_deleted_migrations_are_stale(project, capsys):
    cli.main(["baseline", "migrations"])
    (project / "V2__old.sql").unlink()
    _, _, findings = check(capsys, "--baseline", "migrasafe-baseline.json")
    assert [f["rule"] for f in findings] == ["MS094", "MS094"]


def test_baseline_from_config_relative_to_the_config_file(project, capsys, monkeypatch):
    (project.parent / "migrasafe.toml").write_text('baseline = "ci/baseline.json"\n')
    (project.parent / "ci").mkdir()
    assert cli.main(["baseline", "migrations"]) == 0
    assert (project.parent / "ci" / "baseline.json").is_file()
    entries = json.loads((project.parent / "ci" / "baseline.json").read_text())["findings"]
    assert {e["path"] for e in entries} == {"../migrations/V2__old.sql"}
    monkeypatch.chdir(project)
    assert cli.main(["check", "."]) == 0


def test_missing_or_broken_baseline_is_a_usage_error(project, capsys):
    assert cli.main(["check", "migrations", "--baseline", "nope.json"]) == 2
    assert "baseline nope.json not found" in capsys.readouterr().err
    (project.parent / "bad.json").write_text("{not json")
    assert cli.main(["check", "migrations", "--baseline", "bad.json"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    (project.parent / "other.json").write_text('{"tool": "migrasafe", "findings": [{"rule": "MS001"}]}')
    assert cli.main(["check", "migrations", "--baseline", "other.json"]) == 2
    assert "entry 1 lacks path, rule or statement" in capsys.readouterr().err


def test_input_errors_are_never_recorded(project, capsys):
    (project / "V3__broken.sql").write_text("CREATE TABLE (;\n")
    assert cli.main(["baseline", "migrations"]) == 2
    entries = json.loads((project.parent / "migrasafe-baseline.json").read_text())["findings"]
    assert "MS000" not in {e["rule"] for e in entries}
    assert cli.main(["check", "migrations", "--baseline", "migrasafe-baseline.json"]) == 2


def test_stale_entries_respect_ignore(project, capsys):
    cli.main(["baseline", "migrations"])
    (project / "V2__old.sql").unlink()
    _, _, findings = check(capsys, "--baseline", "migrasafe-baseline.json", "--ignore", "MS094")
    assert findings == []
