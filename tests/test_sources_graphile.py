"""graphile-migrate histories: committed files in number order, their headers, current.sql."""
import hashlib
import json
from pathlib import Path

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from project_files import write

LAYOUT = Path(__file__).parent / "layouts" / "graphile-migrate"
COMMITTED = LAYOUT / "migrations" / "committed"


def serious(report):
    return [(Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
            if f.severity != "info"]


def graphile_hash(body: str, previous: str | None) -> str:
    # graphile-migrate's calculateHash (src/hash.ts)
    return "sha1:" + hashlib.sha1((((previous or "") + "\n" + body).strip() + "\n").encode()).hexdigest()


def committed(*bodies: str, no_transaction: tuple[int, ...] = ()) -> dict[str, str]:
    files, previous = {}, None
    for number, body in enumerate(bodies, 1):
        body = ("--! no-transaction\n" if number in no_transaction else "") + body
        digest = graphile_hash(body, previous)
        files[f"migrations/committed/{number:06d}.sql"] = f"--! Previous: {previous or '-'}\n--! Hash: {digest}\n\n{body}"
        previous = digest
    return files


def test_sample_project_reads_committed_files_and_not_current():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    migrations = [r.migration for r in report.results]
    assert [Path(m.path).name for m in migrations] == [
        "000001.sql", "000002-email-index.sql", "000003-email-id-index.sql", "000004-widen-email.sql"]
    assert {m.format for m in migrations} == {"graphile-migrate"}
    assert [m.in_transaction for m in migrations] == [True, True, False, True]
    assert "no-transaction" in migrations[2].transaction_reason
    # Header lines are not SQL the server sees; statement lines stay the file's own.
    assert migrations[1].statements[0].line == 5
    assert serious(report) == [("000002-email-index.sql", "MS001")]
    assert report.findings == []
    assert [Path(p).name for p in report.skipped] == ["current.sql"]


def test_cli_json_names_the_format(capsys):
    assert main(["check", str(LAYOUT), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {m["format"] for m in out["migrations"]} == {"graphile-migrate"}


def test_current_sql_is_checked_when_named_after_the_committed_ones():
    report = run([str(LAYOUT / "migrations" / "current.sql")], Config(lock_timeout="2s"))
    checked = [r for r in report.results if not r.migration.meta.get("context")]
    assert [Path(r.migration.path).name for r in checked] == ["current.sql"]
    assert len(report.results) == 5  # the four committed migrations first, as context
    assert [f.rule for f in checked[0].all_findings()] == ["MS043"]  # drops the table 000001 created


def test_no_transaction_body_with_several_statements_is_still_one_query(tmp_path):
    write(tmp_path, {".gmrc": "{}\n", **committed(
        "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n",
        no_transaction=(2,))})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    second = report.results[1]
    assert second.migration.in_transaction is True and second.migration.meta["implicit_transaction"]
    assert [f.rule for f in second.all_findings() if f.severity == "error"] == ["MS004"]


def test_a_broken_hash_chain_is_an_input_error(tmp_path):
    files = committed("CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN v text;\n")
    first_hash = files["migrations/committed/000001.sql"].split("\n")[1].removeprefix("--! Hash: ")
    files["migrations/committed/000002.sql"] = files["migrations/committed/000002.sql"].replace(
        f"Previous: {first_hash}", "Previous: sha1:0000", 1)
    write(tmp_path, {".gmrc": "{}\n", **files})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    errors = [f for f in report.findings if f.rule == "MS099"]
    assert [(Path(f.path).name, f.line) for f in errors] == [("000002.sql", 1), ("000002.sql", 2)]
    assert "does not match the hash of the migration before it" in errors[0].message
    assert len(report.results) == 2  # both still checked
    assert main(["check", str(tmp_path)]) == 2


def test_committed_folder_is_found_without_gmrc(tmp_path):
    write(tmp_path, {"db/migrations/" + k.removeprefix("migrations/"): v
                     for k, v in committed("CREATE TABLE t (id int);\n").items()})
    report = run([str(tmp_path)], Config())
    assert [r.migration.format for r in report.results] == ["graphile-migrate"]


def test_a_committed_file_without_headers_is_refused(tmp_path):
    write(tmp_path, {".gmrc": "{}\n", "migrations/committed/000001.sql": "CREATE TABLE t (id int);\n"})
    report = run([str(tmp_path)], Config())
    assert [f.rule for r in report.results for f in r.all_findings()] == ["MS099"]


def test_an_edited_committed_migration_fails_its_hash(tmp_path):
    files = committed("CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN v text;\n")
    files["migrations/committed/000002.sql"] = files["migrations/committed/000002.sql"].replace("v text", "v varchar")
    write(tmp_path, {".gmrc": "{}\n", **files})
    errors = [f for f in run([str(tmp_path)], Config()).findings if f.rule == "MS099"]
    assert len(errors) == 1 and errors[0].line == 2 and "the committed migration was edited" in errors[0].message
    # AllowInvalidHash is graphile's own escape hatch.
    path = tmp_path / "migrations" / "committed" / "000002.sql"
    path.write_text("--! AllowInvalidHash\n" + path.read_text())
    assert [f for f in run([str(tmp_path)], Config()).findings if f.rule == "MS099"] == []


def test_no_transaction_must_open_the_body(tmp_path):
    files = committed("CREATE TABLE t (id int, v text);\n", "SELECT 1;\n--! no-transaction\nCREATE INDEX t_v ON t (v);\n")
    write(tmp_path, {".gmrc": "{}\n", **files})
    second = run([str(tmp_path)], Config()).results[1].migration
    assert second.in_transaction is True and second.transaction_reason.startswith("graphile-migrate runs each")


def test_fix_leaves_committed_migrations_alone():
    from migrasafe.plan.fix import plan_fixes

    fixes = plan_fixes([str(COMMITTED / "000002-email-index.sql")], Config(lock_timeout="2s"))
    assert fixes.changes == []
    assert len(fixes.notes) == 1 and "its Hash covers the body" in fixes.notes[0]


def test_gmrc_migrations_folder_is_followed(tmp_path):
    files = {k.replace("migrations/", "db/graphile/", 1): v for k, v in committed("CREATE TABLE t (id int);\n").items()}
    write(tmp_path, {".gmrc": '{\n  // where the migrations live\n  "migrationsFolder": "./db/graphile",\n}\n', **files})
    report = run([str(tmp_path)], Config())
    assert [(r.migration.format, Path(r.migration.path).name) for r in report.results] == [
        ("graphile-migrate", "000001.sql")]


def test_a_file_of_the_current_folder_is_checked_when_named(tmp_path):
    write(tmp_path, {".gmrc": "{}\n", **committed("CREATE TABLE t (id int PRIMARY KEY, v text);\n"),
                     "migrations/current/1-index.sql": "CREATE INDEX t_v ON t (v);\n"})
    whole = run([str(tmp_path)], Config())
    assert [Path(r.migration.path).name for r in whole.results] == ["000001.sql"]
    assert [Path(p).name for p in whole.skipped] == ["1-index.sql"]
    named = run([str(tmp_path / "migrations" / "current" / "1-index.sql")], Config(lock_timeout="2s"))
    assert [(Path(r.migration.path).name, r.migration.format) for r in named.results] == [
        ("000001.sql", "graphile-migrate"), ("1-index.sql", "graphile-migrate")]
    assert [f.rule for f in named.results[1].all_findings()] == ["MS001"]


def test_placeholders_are_replaced_as_graphile_does(tmp_path):
    files = committed("CREATE TABLE t (id int);\nGRANT SELECT ON t TO :DATABASE_OWNER, :APP_ROLE;\n")
    write(tmp_path, {".gmrc": '{"placeholders": {":APP_ROLE": "!ENV"}}\n', **files})
    report = run([str(tmp_path)], Config())
    (result,) = report.results
    assert not result.migration.broken
    assert [s.statement.sql for s in result.statements][1] == "GRANT SELECT ON t TO _DATABASE_OWNER, _APP_ROLE"
    notes = [f for f in result.all_findings() if f.rule == "MS090"]
    assert [(f.line, f.severity) for f in notes] == [(5, "info"), (5, "info")]
