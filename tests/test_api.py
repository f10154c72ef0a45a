"""The Python API: `migrasafe.check(paths, ...) -> Report`."""
import json
import subprocess
import sys

import pytest

import migrasafe
from migrasafe.api import CheckError, exit_code, findings, render, verdict
from migrasafe.config import Config
from migrasafe.model import Report

CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n"
INDEX = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"


@pytest.fixture
def folder(tmp_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__create.sql").write_text(CREATE)
    (migrations / "V2__index.sql").write_text(INDEX)
    return migrations


def test_check_returns_the_report_the_command_prints(folder, monkeypatch, capsys):
    report = migrasafe.check(folder)
    assert isinstance(report, Report)
    assert sorted(f.rule for f in findings(report)) == ["MS001", "MS032"]
    assert verdict(report) == "fail"
    assert exit_code(report) == 1
    assert exit_code(report, "never") == 0
    monkeypatch.chdir(folder.parent)
    from migrasafe import cli

    cli.main(["check", "migrations", "--format", "json"])
    assert json.loads(render(migrasafe.check("migrations"), "json")) == json.loads(capsys.readouterr().out)


def test_options_match_the_command_line(folder):
    report = migrasafe.check([str(folder)], select=["index-without-concurrently"], pg_version=12, fail_on="error")
    assert [f.rule for f in findings(report)] == ["MS001"]
    assert (report.pg_version, report.fail_on) == (12, "error")
    assert list(findings(migrasafe.check(folder, ignore="MS001,MS032"))) == []


def test_a_config_object_or_file(folder, tmp_path):
    assert migrasafe.check(folder, config=Config(ignore=["MS001", "MS032"])).all_findings() == []
    config = tmp_path / "other.toml"
    config.write_text('ignore = ["MS032"]\n')
    assert [f.rule for f in findings(migrasafe.check(folder, config=config))] == ["MS001"]


def test_the_configuration_found_walking_up_applies(folder):
    (folder.parent / "migrasafe.toml").write_text('fail_on = "error"\nignore = ["MS032"]\n')
    report = migrasafe.check(folder / "V2__index.sql")
    assert [f.rule for f in findings(report)] == ["MS001"]
    assert report.fail_on == "error"


def test_since_and_baseline_work_through_the_api(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from migrasafe import cli

    assert cli.main(["baseline", "migrations", "-o", "base.json"]) == 0
    assert list(findings(migrasafe.check("migrations", baseline="base.json"))) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pg_version": 9}, "PostgreSQL 9 is not supported"),
        ({"fail_on": "sometimes"}, "fail_on must be"),
        ({"select": ["MS999"]}, "select: unknown rule 'MS999'"),
        ({"config": "missing.toml"}, "missing.toml: config file not found"),
        ({"baseline": "missing.json"}, "baseline missing.json not found"),
    ],
)
def test_bad_settings_raise_check_error(folder, kwargs, message):
    with pytest.raises(CheckError, match=message):
        migrasafe.check(folder, **kwargs)


def test_no_paths():
    with pytest.raises(CheckError, match="no paths"):
        migrasafe.check([])


def test_render_rejects_unknown_formats(folder):
    with pytest.raises(CheckError, match="unknown format 'xml'"):
        render(migrasafe.check(folder), "xml")


def test_import_migrasafe_stays_light():
    # `migrasafe.check` is resolved on first use; importing the package loads no parser.
    code = "import sys, migrasafe; print('pglast' in sys.modules, callable(migrasafe.check))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
