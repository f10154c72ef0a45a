import json
import os
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrasafe import cli
from migrasafe.config import Config
from migrasafe.model import AnalysedStatement, Finding, Impact, Migration, MigrationResult, Report, Statement

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeRule:
    id: str
    name: str
    severity: str
    summary: str
    what: str = "Flags CREATE INDEX without CONCURRENTLY."
    why: str = "It blocks writes for as long as the build takes."
    example: str = "CREATE INDEX ix ON orders (customer_id);"
    use_instead: str = "CREATE INDEX CONCURRENTLY ix ON orders (customer_id);"
    versions: str = ""


FAKE_RULES = [
    FakeRule("MS001", "index-without-concurrently", "error", "CREATE INDEX blocks writes", versions="all"),
    FakeRule("MS010", "missing-lock-timeout", "warning", "no lock_timeout before a blocking lock"),
    FakeRule("MS092", "unused-suppression", "info", "a suppression that silenced nothing"),
]


@pytest.fixture
def registry(monkeypatch):
    """The rule registry, replaced by three known rules so output is predictable."""
    module = types.ModuleType("migrasafe.rules.registry")
    module.all_rules = lambda: list(FAKE_RULES)

    def get_rule(key):
        key = key.strip()
        return next((r for r in FAKE_RULES if key.upper() == r.id or key.lower() == r.name), None)

    module.get_rule = module.find_rule = get_rule
    monkeypatch.setitem(sys.modules, "migrasafe.rules.registry", module)
    return module


@pytest.fixture
def pipeline(monkeypatch):
    """Replace the pipeline: returns the report set on `.report` and records each call."""

    class Pipeline:
        report = Report(pg_version=16)
        calls: list[tuple[list[str], Config]] = []

        def run(self, paths, config):
            self.calls.append((paths, config))
            return self.report

    fake = Pipeline()
    try:
        import migrasafe.check as module
    except ImportError:
        module = types.ModuleType("migrasafe.check")
        monkeypatch.setitem(sys.modules, "migrasafe.check", module)
    monkeypatch.setattr(module, "run", fake.run, raising=False)
    fake.module = module
    return fake


def report_with(*severities, broken=False, path="m.sql"):
    statement = Statement(index=0, sql="CREATE INDEX ix ON t (c)", line=1, column=1, end_line=1)
    findings = [
        Finding("MS001", "index-without-concurrently", s, "blocks writes", path, 1, statement_index=0)
        for s in severities
    ]
    migration = Migration(path=path, format="sql", version="1", broken=broken)
    result = MigrationResult(migration, [AnalysedStatement(statement, Impact(), True, findings=findings)])
    return Report(pg_version=16, results=[result])


@pytest.fixture
def migration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("MIGRASAFE_DEBUG", raising=False)
    path = tmp_path / "V1__init.sql"
    path.write_text("CREATE INDEX ix ON t (c);\n")
    return path


# --- usage -----------------------------------------------------------------------------------


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("migrasafe ")


def test_help_exits_0(capsys):
    assert cli.main(["check", "--help"]) == 0
    assert "--source-format" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "check" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check"], "required: PATH"),
        (["check", "V1__init.sql", "--pg-version", "11"], "12 to 18"),
        (["check", "V1__init.sql", "--pg-version", "sixteen"], "not 'sixteen'"),
        (["check", "V1__init.sql", "--fail-on", "fatal"], "invalid choice"),
        (["check", "V1__init.sql", "--format", "xml"], "invalid choice"),
        (["check", "V1__init.sql", "--source-format", "rails"], "invalid choice"),
        (["check", "V1__init.sql", "--placeholder", "schema"], "NAME=VALUE"),
        (["check", "V1__init.sql", "--config", "nope.toml"], "nope.toml: config file not found"),
        (["check", "V1__init.sql", "--schema", "dump.sql"], "dump.sql: no such file"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv, message, migration, pipeline, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert pipeline.calls == []


def test_bad_config_file_exits_2_naming_the_file(migration, pipeline, capsys):
    (migration.parent / "migrasafe.toml").write_text("pg_version = 9\n")
    assert cli.main(["check", str(migration)]) == 2
    err = capsys.readouterr().err
    assert "migrasafe.toml" in err and "pg_version" in err
    assert pipeline.calls == []


def test_unparsable_config_exits_2(migration, pipeline, capsys):
    (migration.parent / "migrasafe.toml").write_text("pg_version = \n")
    assert cli.main(["check", str(migration)]) == 2
    assert "migrasafe.toml" in capsys.readouterr().err


def test_unknown_rule_in_select_suggests_close_matches(migration, pipeline, registry, capsys):
    assert cli.main(["check", str(migration), "--select", "MS001,index-without-concurency"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule 'index-without-concurency'" in err
    assert "did you mean MS001 (index-without-concurrently)" in err


# --- settings ----------------------------------------------------------------------------------


def test_config_is_found_walking_up_and_options_override_it(tmp_path, monkeypatch, pipeline, registry):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.migrasafe]\npg_version = 13\nfail_on = 'error'\nplaceholders = { schema = 'app', owner = 'me' }\n"
    )
    folder = tmp_path / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "V1__init.sql").write_text("SELECT 1;\n")
    (tmp_path / "dump.sql").write_text("CREATE TABLE t (id int);\n")

    assert cli.main(["check", "db/migrations"]) == 0
    (_, config), = pipeline.calls
    assert config.pg_version == 13
    assert config.fail_on == "error"
    assert config.source == str(tmp_path / "pyproject.toml")

    pipeline.calls.clear()
    argv = [
        "check", "db/migrations", "--pg-version", "15", "--fail-on", "info", "--select", "index-without-concurrently",
        "--ignore", "ms010", "--placeholder", "schema=public", "--flyway-mixed", "--timezone-utc",
        "--source-format", "flyway", "--schema", "dump.sql",
    ]
    assert cli.main(argv) == 0
    (paths, config), = pipeline.calls
    assert paths == ["db/migrations"]
    assert config.pg_version == 15
    assert config.fail_on == "info"
    assert config.select == ["MS001"]
    assert config.ignore == ["MS010"]
    assert config.placeholders == {"schema": "public", "owner": "me"}
    assert config.flyway_mixed and config.timezone_utc
    assert config.format == "flyway"
    assert config.schema == [str(tmp_path / "dump.sql")]


def test_explicit_config_wins_over_discovery(migration, pipeline):
    (migration.parent / "migrasafe.toml").write_text("pg_version = 13\n")
    other = migration.parent / "ci.toml"
    other.write_text("pg_version = 17\n")
    assert cli.main(["check", str(migration), "--config", str(other)]) == 0
    assert pipeline.calls[0][1].pg_version == 17


def test_defaults_without_config(migration, pipeline):
    assert cli.main(["check", str(migration)]) == 0
    config = pipeline.calls[0][1]
    assert config.pg_version == 16 and config.fail_on == "warning" and config.source is None


# --- exit codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "severities, options, code",
    [
        ((), [], 0),
        (("info",), [], 0),
        (("warning",), [], 1),
        (("error",), ["--fail-on", "error"], 1),
        (("warning",), ["--fail-on", "error"], 0),
        (("info",), ["--fail-on", "info"], 1),
        (("error",), ["--fail-on", "never"], 0),
    ],
)
def test_exit_codes(severities, options, code, migration, pipeline, capsys):
    pipeline.report = report_with(*severities)
    assert cli.main(["check", str(migration), *options]) == code


def test_broken_input_exits_2_even_with_fail_on_never(migration, pipeline):
    pipeline.report = report_with(broken=True)
    assert cli.main(["check", str(migration), "--fail-on", "never"]) == 2


def test_broken_context_migration_is_explained_on_stderr(migration, pipeline, capsys):
    pipeline.report = report_with("error", broken=True, path="V0__base.sql")
    pipeline.report.results[0].migration.meta["context"] = True
    assert cli.main(["check", str(migration)]) == 2
    captured = capsys.readouterr()
    assert "V0__base.sql" not in captured.out
    assert captured.err == "migrasafe: V0__base.sql:1: blocks writes (read for its schema only)\n"


# --- output -----------------------------------------------------------------------------------------


def test_text_output(migration, pipeline, capsys):
    pipeline.report = report_with("error")
    cli.main(["check", str(migration)])
    out = capsys.readouterr().out
    assert out.startswith("m.sql:1:1: MS001 index-without-concurrently [error]\n  CREATE INDEX ix ON t (c)\n")
    assert out.endswith("— verdict: fail\n")
    assert "\x1b[" not in out


def test_json_output(migration, pipeline, capsys):
    pipeline.report = report_with("warning")
    assert cli.main(["check", str(migration), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "warn"
    assert data["migrations"][0]["statements"][0]["findings"][0]["rule"] == "MS001"


def test_color_only_on_a_terminal(migration, pipeline, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert cli.wants_color(no_color=False)
    assert not cli.wants_color(no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli.wants_color(no_color=False)


# --- failures inside a command ------------------------------------------------------------------


def test_internal_error_is_reported_without_traceback(migration, pipeline, monkeypatch, capsys):
    def explode(paths, config):
        raise KeyError("relation")

    monkeypatch.setattr(pipeline.module, "run", explode)
    assert cli.main(["check", str(migration)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("migrasafe: internal error: KeyError: 'relation'\n")
    assert "report" in err and "Traceback" not in err


def test_debug_shows_the_traceback(migration, pipeline, monkeypatch):
    monkeypatch.setattr(pipeline.module, "run", lambda paths, config: 1 / 0)
    monkeypatch.setenv("MIGRASAFE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["check", str(migration)])


# --- rules / explain ----------------------------------------------------------------------------


def test_rules_lists_aligned_columns(registry, capsys):
    assert cli.main(["rules"]) == 0
    assert capsys.readouterr().out == (
        "MS001  index-without-concurrently  error    CREATE INDEX blocks writes\n"
        "MS010  missing-lock-timeout        warning  no lock_timeout before a blocking lock\n"
        "MS092  unused-suppression          info     a suppression that silenced nothing\n"
    )


@pytest.mark.parametrize("key", ["MS001", "ms001", "index-without-concurrently"])
def test_explain(key, registry, capsys):
    assert cli.main(["explain", key]) == 0
    assert capsys.readouterr().out == (
        "# index-without-concurrently (MS001)\n"
        "\n"
        "Severity: error\n"
        "Versions: all\n"
        "\n"
        "## What it does\n"
        "Flags CREATE INDEX without CONCURRENTLY.\n"
        "\n"
        "## Why is this bad?\n"
        "It blocks writes for as long as the build takes.\n"
        "\n"
        "## Example\n"
        "```sql\n"
        "CREATE INDEX ix ON orders (customer_id);\n"
        "```\n"
        "\n"
        "## Use instead\n"
        "```sql\n"
        "CREATE INDEX CONCURRENTLY ix ON orders (customer_id);\n"
        "```\n"
    )


def test_explain_unknown_rule_suggests(registry, capsys):
    assert cli.main(["explain", "missing-lock-timeot"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown rule 'missing-lock-timeot'; did you mean MS010 (missing-lock-timeout)?" in captured.err


def test_explain_unknown_rule_without_close_match(registry, capsys):
    assert cli.main(["explain", "zzz"]) == 2
    assert capsys.readouterr().err == "migrasafe: unknown rule 'zzz' (`migrasafe rules` lists every rule)\n"


# --- the installed command ----------------------------------------------------------------------


def run_module(*args, cwd=ROOT, env=None):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "migrasafe", *args], cwd=cwd, env=environment, capture_output=True, text=True
    )


def test_python_dash_m(tmp_path):
    done = run_module("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("migrasafe ")


def test_version_and_startup_import_nothing_heavy():
    code = (
        "import sys\n"
        "from migrasafe import cli\n"
        "try:\n"
        "    cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('pglast', 'yaml', 'alembic', 'sqlalchemy', 'migrasafe.check') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.splitlines()[-1] == "[]"


# --- end to end, through the real pipeline ----------------------------------------------------------


def real_pipeline():
    try:
        import migrasafe.check  # noqa: F401
        import migrasafe.rules.registry  # noqa: F401
    except ImportError as err:
        pytest.skip(f"pipeline not available: {err}")


def test_end_to_end_blocking_index(tmp_path):
    real_pipeline()
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__orders.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n")
    (folder / "V2__index.sql").write_text("CREATE INDEX orders_customer_idx ON orders (customer_id);\n")
    done = run_module("check", "migrations", "--format", "json", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["tool"] == "migrasafe"
    paths = [m["path"] for m in data["migrations"]]
    assert any(p.endswith("V2__index.sql") for p in paths)


def test_end_to_end_text_and_suppression(tmp_path):
    real_pipeline()
    sql = tmp_path / "V1__t.sql"
    sql.write_text(
        "CREATE TABLE t (id int);\n"
        "-- migrasafe: ignore MS999\n"
        "SELECT 1;\n"
    )
    done = run_module("check", str(sql), "--no-color", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert "MS093 suppression-without-reason [warning]" in done.stdout
    assert "verdict: warn" in done.stdout or "verdict: fail" in done.stdout


def test_end_to_end_unparsable_sql_exits_2(tmp_path):
    real_pipeline()
    sql = tmp_path / "V1__bad.sql"
    sql.write_text("CREATE TABLEE t (id int);\n")
    done = run_module("check", str(sql), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "V1__bad.sql:1:" in done.stdout


def test_end_to_end_rules_and_explain():
    real_pipeline()
    listing = run_module("rules")
    assert listing.returncode == 0 and listing.stdout.startswith("MS")
    first_id = listing.stdout.split()[0]
    explained = run_module("explain", first_id)
    assert explained.returncode == 0
    assert f"({first_id})" in explained.stdout.splitlines()[0]
    assert "## Why is this bad?" in explained.stdout


def test_missing_path_is_reported_and_the_other_paths_still_checked(tmp_path, capsys):
    good = tmp_path / "migrations"
    good.mkdir()
    (good / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    (good / "002_b.sql").write_text("CREATE INDEX a_id ON a (id);\n")
    code = cli.main(["check", str(tmp_path / "nope"), str(good), "--no-color"])
    out = capsys.readouterr().out
    assert code == 2
    assert "MS099 input-error" in out and "path does not exist" in out
    assert "002_b.sql:1:1: MS001 index-without-concurrently" in out
