"""Liquibase formatted SQL: changesets as units, master changelog order, transaction attributes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import liquibase

LAYOUT = Path(__file__).parent / "layouts" / "liquibase"
CHANGELOG = LAYOUT / "db" / "changelog"


def _rules(report, at_least="warning"):
    order = {"info": 0, "warning": 1, "error": 2}
    return [(Path(f.path).name, f.line, f.rule) for f in report.all_findings()
            if order[f.severity] >= order[at_least]]


def _project(tmp_path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_master_changelog_decides_membership_and_order():
    history = liquibase.list_history(CHANGELOG.resolve())
    assert [(e.rel, e.version) for e in history.forward] == [
        ("changes/001-orders.sql", "ann:orders-1"),
        ("changes/002-indexes.sql", "bob:status-index"),
        ("changes/002-indexes.sql", "bob:email-index"),
        ("changes/later/010-widen.sql", "carol:widen-note"),
        ("changes/later/010-widen.sql", "carol:touch-fn"),
    ]
    skipped = {str(Path(k).relative_to(CHANGELOG.resolve())): v for k, v in history.skipped.items()}
    assert skipped == {
        "changes/001-orders.sql (changeset ann:orders-mysql, line 13)":
            "dbms:mysql: Liquibase runs this changeset only there, not on PostgreSQL",
        "changes/orphan.sql": "not included from db.changelog-master.yaml: Liquibase never runs it",
    }
    assert CHANGELOG.resolve() / "db.changelog-master.yaml" in history.companions
    assert history.problems == []


def test_each_changeset_is_checked_with_its_own_transaction():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    assert _rules(report) == [("002-indexes.sql", 6, "MS001")]
    chosen = {r.migration.version: (r.migration.in_transaction, r.migration.transaction_reason) for r in report.results}
    assert chosen == {
        "ann:orders-1": (True, "Liquibase runs each changeset in its own transaction"),
        "bob:status-index": (True, "Liquibase runs each changeset in its own transaction"),
        "bob:email-index": (False, "runInTransaction:false: Liquibase runs this changeset in autocommit"),
        "carol:widen-note": (True, "Liquibase runs each changeset in its own transaction"),
        "carol:touch-fn": (True, "Liquibase runs each changeset in its own transaction"),
    }
    lines = {r.migration.version: [s.statement.line for s in r.statements] for r in report.results}
    # File lines; the end delimiter `/` split the function from the trigger; rollbacks never ran.
    assert lines == {"ann:orders-1": [5], "bob:status-index": [6], "bob:email-index": [10],
                     "carol:widen-note": [4], "carol:touch-fn": [8, 15]}
    assert all(r.migration.format == "liquibase" for r in report.results)


def test_cli_from_the_project_root_names_the_format(capsys):
    code = main(["check", str(LAYOUT), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {m["format"] for m in data["migrations"]} == {"liquibase"}
    assert [m["version"] for m in data["migrations"]][0] == "ann:orders-1"
    assert {s["path"].rsplit("/", 1)[-1] for s in data["skipped"]} == {
        "001-orders.sql (changeset ann:orders-mysql, line 13)", "orphan.sql"}


def test_split_statements_false_sends_one_query_so_concurrently_fails(tmp_path):
    _project(tmp_path, {"changes.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int, v text);\n"
        "--changeset a:2 runInTransaction:false splitStatements:false\n"
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n"
        "--changeset a:3 runInTransaction:false splitStatements:false\n"
        "CREATE INDEX CONCURRENTLY t_id ON t (id);\n")})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert _rules(report, "error") == [("changes.sql", 6, "MS004")]
    second = report.results[1].migration
    assert second.in_transaction and second.meta["implicit_transaction"]
    assert "one multi-statement query" in second.transaction_reason
    assert report.results[2].migration.in_transaction is False


def test_without_a_master_the_folder_runs_in_path_order_and_plain_files_are_not_run(tmp_path):
    _project(tmp_path, {
        "b/002.sql": "--liquibase formatted sql\n--changeset a:2\nALTER TABLE t ADD COLUMN v text;\n",
        "a/001.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int);\n",
        "a/notes.sql": "SELECT 1;\n",
    })
    history = liquibase.list_history(tmp_path.resolve())
    assert [e.rel for e in history.forward] == ["a/001.sql", "b/002.sql"]
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [Path(r.migration.path).name for r in report.results] == ["001.sql", "002.sql"]
    assert any(p.endswith("a/notes.sql") for p in report.skipped)


def test_xml_and_sql_masters_and_a_plain_sql_include(tmp_path):
    _project(tmp_path, {
        "db/changelog.xml": ('<?xml version="1.0"?>\n<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
                             '  <include file="main.sql" relativeToChangelogFile="true"/>\n'
                             '  <changeSet id="x" author="y"><sql>SELECT 1</sql></changeSet>\n'
                             '</databaseChangeLog>\n'),
        "db/main.sql": "--liquibase formatted sql\n--include file:db/parts/one.sql\n--include file:db/parts/raw.sql\n",
        "db/parts/one.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int);\n",
        "db/parts/raw.sql": "CREATE TABLE u (id int);\nCREATE TABLE w (id int);\n",
    })
    history = liquibase.list_history((tmp_path / "db").resolve())
    assert [(e.rel, e.version) for e in history.forward] == [("parts/one.sql", "a:1"), ("parts/raw.sql", "includeAll:raw")]
    assert "1 change(s) of changeSets written in XML" in history.skipped[(tmp_path / "db" / "changelog.xml").resolve()]
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    raw = report.results[1]
    assert len(raw.statements) == 2 and raw.migration.in_transaction


def test_input_errors_name_file_and_line(tmp_path, capsys):
    _project(tmp_path, {
        "db.changelog-master.yaml": "databaseChangeLog:\n  - include:\n      file: one.sql\n  - include:\n"
                                    "      file: missing.sql\n",
        "one.sql": ("--liquibase formatted sql\nCREATE TABLE stray (id int);\n--changeset a:1\n"
                    "CREATE TABLE t (id int);\n--changeset a:1\nCREATE TABLE u (id int);\n"),
    })
    code = main(["check", str(tmp_path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    errors = sorted((Path(f["path"]).name, f["line"], f["message"].split(":")[0]) for f in data["findings"]
                    if f["rule"] == "MS099")
    assert errors == [
        ("db.changelog-master.yaml", 5, "Liquibase stops"),
        ("one.sql", 2, 'Liquibase stops here ("Unexpected formatting")'),
        ("one.sql", 5, "Liquibase refuses the changelog"),
    ]
    assert len(data["migrations"]) == 1  # the first a:1 is still checked


def test_ignored_lines_and_dbms_negation(tmp_path):
    _project(tmp_path, {"c.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int);\n--ignoreLines:start\nDROP TABLE t;\n--ignoreLines:end\n"
        "--ignoreLines:1\nDROP TABLE t;\n"
        "--changeset a:2 dbms:!postgresql\nDROP TABLE t;\n"
        "--changeset a:3 dbms:postgresql,h2\nALTER TABLE t ADD COLUMN v text;\n")})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [r.migration.version for r in report.results] == ["a:1", "a:3"]
    assert [s.statement.sql for s in report.results[0].statements] == ["CREATE TABLE t (id int)"]
    assert _rules(report) == []
    assert any("dbms:!postgresql" in reason for reason in report.skipped.values())


def test_transaction_override_in_the_configuration(tmp_path):
    _project(tmp_path, {"c.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int);\n"})
    report = run([str(tmp_path)], Config(transaction={"liquibase": False}))
    assert report.results[0].migration.in_transaction is False


def test_copy_of_the_sample_keeps_working_when_moved(tmp_path):
    copy = tmp_path / "app"
    shutil.copytree(LAYOUT, copy)
    report = run([str(copy)], Config(lock_timeout="2s"))
    assert _rules(report) == [("002-indexes.sql", 6, "MS001")]


# fix and plan ----------------------------------------------------------------------------------------

def test_fix_marks_a_one_statement_changeset_run_in_transaction_false(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    copy = tmp_path / "app"
    shutil.copytree(LAYOUT, copy)
    target = copy / "db" / "changelog" / "changes" / "002-indexes.sql"
    apply_fixes(plan_fixes([str(target)], Config(lock_timeout="2s")))
    text = target.read_text()
    assert "--changeset bob:status-index runInTransaction:false\n" in text
    assert "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);" in text
    report = run([str(copy)], Config(lock_timeout="2s"))
    assert _rules(report) == []


def test_fix_moves_the_index_into_a_new_changeset_after_its_own(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    _project(tmp_path, {"c.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int, v text);\n"
        "--changeset a:2\nSET lock_timeout = '2s';\nCREATE INDEX t_v ON t (v);\nALTER TABLE t ADD COLUMN w text;\n"
        "--rollback DROP INDEX t_v;\n--rollback ALTER TABLE t DROP COLUMN w;\n"
        "--changeset a:3\nCREATE INDEX t_w ON t (w);\n")})
    target = tmp_path / "c.sql"
    fixes = plan_fixes([str(target)], Config(lock_timeout="2s"))
    # Two changesets of the file need a fix: one is written per run, the other is named.
    assert any("changeset a:3 not fixed in this run" in n for n in fixes.notes)
    apply_fixes(fixes)
    assert target.read_text() == (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int, v text);\n"
        "--changeset a:2\nSET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN w text;\n"
        "--rollback ALTER TABLE t DROP COLUMN w;\n"
        "--changeset a:2-t-v-concurrently runInTransaction:false\n"
        "--comment: moved out of changeset a:2 by migrasafe fix: it cannot run in a transaction block\n"
        "CREATE INDEX CONCURRENTLY t_v ON t (v);\n--rollback DROP INDEX CONCURRENTLY IF EXISTS public.t_v;\n\n"
        "--changeset a:3\nCREATE INDEX t_w ON t (w);\n")
    apply_fixes(plan_fixes([str(target)], Config(lock_timeout="2s")))  # the second run fixes a:3
    report = run([str(target)], Config(lock_timeout="2s"))
    assert _rules(report) == []
    assert [r.migration.version for r in report.results] == ["a:1", "a:2", "a:2-t-v-concurrently", "a:3"]


def test_plan_writes_changesets_and_includes_them_from_the_master(tmp_path):
    from migrasafe.plan.planner import prepare, write

    copy = tmp_path / "app"
    shutil.copytree(LAYOUT, copy)
    changelog = copy / "db" / "changelog"
    prepared = prepare(str(changelog), "add-unique", {"columns": "orders.email"}, Config())
    assert prepared.blocking == []
    write(prepared)
    master = (changelog / "db.changelog-master.yaml").read_text()
    names = [Path(m.main).name for m in prepared.migrations]
    assert master.endswith("".join(f"  - include:\n      file: {n}\n      relativeToChangelogFile: true\n"
                                   for n in names))
    first = (changelog / names[0]).read_text()
    assert first.startswith("--liquibase formatted sql\n\n--changeset migrasafe:")
    assert "runInTransaction:false" in first.splitlines()[2]
    history = liquibase.list_history(changelog.resolve())
    assert [e.file.name for e in history.forward][-2:] == names
    assert _rules(run([str(copy)], Config(lock_timeout="2s"))) == [("002-indexes.sql", 6, "MS001")]


def test_plan_without_a_master_changelog_says_so(tmp_path):
    import pytest

    from migrasafe.plan.errors import PlanError
    from migrasafe.plan.planner import prepare

    _project(tmp_path, {"c.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int, v text);\n"})
    with pytest.raises(PlanError, match="no master changelog"):
        prepare(str(tmp_path), "add-index", {"columns": "t.v"}, Config())


def test_a_named_changeset_file_is_read_in_its_master_changelogs_order():
    named = CHANGELOG / "changes" / "002-indexes.sql"
    report = run([str(named)], Config(lock_timeout="2s"))
    assert [(r.migration.version, r.migration.meta["context"]) for r in report.results] == [
        ("ann:orders-1", True), ("bob:status-index", False), ("bob:email-index", False)]
    folder = run([str(CHANGELOG / "changes")], Config(lock_timeout="2s"))
    assert [r.migration.version for r in folder.results][-1] == "carol:touch-fn"


def test_sql_file_changes_of_yaml_and_xml_changesets_are_read(tmp_path):
    _project(tmp_path, {
        "db.changelog-master.yaml": (
            "databaseChangeLog:\n"
            "  - changeSet:\n      id: 1\n      author: a\n      changes:\n"
            "        - sqlFile:\n            path: sql/001_tables.sql\n            relativeToChangelogFile: true\n"
            "        - createTable:\n            tableName: audit\n"
            "  - changeSet:\n      id: 2\n      author: a\n      runInTransaction: false\n      changes:\n"
            "        - sqlFile:\n            path: sql/002_index.sql\n            relativeToChangelogFile: true\n"
            "            splitStatements: false\n"
            "  - changeSet:\n      id: 3\n      author: a\n      dbms: oracle\n      changes:\n"
            "        - sqlFile:\n            path: sql/003_oracle.sql\n            relativeToChangelogFile: true\n"
            "  - include:\n      file: more.xml\n      relativeToChangelogFile: true\n"),
        "more.xml": ('<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
                     '  <changeSet id="4" author="b" runInTransaction="false">\n'
                     '    <sqlFile path="sql/004_concurrently.sql" relativeToChangelogFile="true"/>\n'
                     '  </changeSet>\n</databaseChangeLog>\n'),
        "sql/001_tables.sql": "CREATE TABLE t (id int, v text);\n",
        "sql/002_index.sql": "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n",
        "sql/003_oracle.sql": "CREATE TABLE x (id NUMBER);\n",
        "sql/004_concurrently.sql": "CREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    })
    history = liquibase.list_history(tmp_path.resolve())
    assert [(e.rel, e.version) for e in history.forward] == [
        ("sql/001_tables.sql", "a:1"), ("sql/002_index.sql", "a:2"), ("sql/004_concurrently.sql", "b:4")]
    skipped = {Path(k).name: v for k, v in history.skipped.items()}
    assert "dbms:oracle" in skipped["003_oracle.sql"]
    assert "1 change(s) of changeSets written in YAML" in skipped["db.changelog-master.yaml"]
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    # splitStatements:false sends both statements as one query: one implicit transaction.
    assert _rules(report, "error") == [("002_index.sql", 2, "MS004")]
    assert report.results[2].migration.in_transaction is False


def test_a_sql_changelog_runs_its_own_changesets_and_its_includes_in_the_order_written(tmp_path):
    # Liquibase's formatted SQL parser adds each changeset at its --changeset line and the included
    # changelogs at the --include line: file order, not own changesets first.
    _project(tmp_path, {
        "master.sql": ("--liquibase formatted sql\n"
                       "--changeset a:first\nCREATE TABLE t (id int);\n"
                       "--include file:parts/one.sql relativeToChangelogFile:true\n"
                       "--changeset a:middle\nALTER TABLE t ADD COLUMN m text;\n"
                       "--includeAll path:more relativeToChangelogFile:true\n"
                       "--changeset a:last\nALTER TABLE t ADD COLUMN z text;\n"),
        "parts/one.sql": "--liquibase formatted sql\n--changeset b:one\nALTER TABLE t ADD COLUMN v text;\n",
        "more/1.sql": "--liquibase formatted sql\n--changeset c:1\nALTER TABLE t ADD COLUMN w text;\n",
        "more/2.sql": "--liquibase formatted sql\n--changeset c:2\nALTER TABLE t ADD COLUMN x text;\n",
    })
    history = liquibase.list_history(tmp_path.resolve())
    assert [(e.rel, e.version) for e in history.forward] == [
        ("master.sql", "a:first"), ("parts/one.sql", "b:one"), ("master.sql", "a:middle"),
        ("more/1.sql", "c:1"), ("more/2.sql", "c:2"), ("master.sql", "a:last"),
    ]
    assert history.problems == [] and history.skipped == {}
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [r.migration.version for r in report.results] == ["a:first", "b:one", "a:middle", "c:1", "c:2", "a:last"]
    assert _rules(report) == []


def test_a_sql_master_that_only_includes_others_is_not_listed_as_never_run(tmp_path, capsys):
    _project(tmp_path, {
        "master.sql": "--liquibase formatted sql\n--includeAll path:changes relativeToChangelogFile:true\n",
        "changes/001.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (id int);\n",
        "stray.sql": "--liquibase formatted sql\n--changeset a:9\nDROP TABLE t;\n",
    })
    history = liquibase.list_history(tmp_path.resolve())
    assert [(e.rel, e.version) for e in history.forward] == [("changes/001.sql", "a:1")]
    assert {Path(k).name: v for k, v in history.skipped.items()} == {
        "stray.sql": "not included from master.sql: Liquibase never runs it"}
    assert main(["check", "--format", "json", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [Path(s["path"]).name for s in data["skipped"]] == ["stray.sql"]


def test_end_delimiter_splits_at_its_own_line_and_each_piece_is_one_query(tmp_path):
    # endDelimiter:/ — Liquibase splits at a line holding only "/", and sends each piece as one
    # string: a piece of two statements is one implicit transaction, where CONCURRENTLY fails.
    _project(tmp_path, {"c.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int, v text);\n"
        "--changeset a:2 endDelimiter:/ runInTransaction:false\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$\n/\n"
        "CREATE INDEX CONCURRENTLY t_v ON t (v)\n/\n"
        "--changeset a:3 endDelimiter:/ runInTransaction:false\n"
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY t_id ON t (id)\n/\n")})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    second, third = report.results[1], report.results[2]
    assert [s.statement.sql.split(" (")[0].split(" RETURNS")[0] for s in second.statements] == [
        "CREATE FUNCTION f()", "CREATE INDEX CONCURRENTLY t_v ON t"]
    assert second.migration.in_transaction is False
    assert third.migration.in_transaction and third.migration.meta["implicit_transaction"]
    assert _rules(report, "error") == [("c.sql", 11, "MS004")]


def test_preconditions_lines_never_run_forward(tmp_path):
    # --preconditions and --precondition-sql-check are read by Liquibase before the changeset runs;
    # they are comments to the server, so their SQL is not one of the changeset's statements.
    _project(tmp_path, {"c.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:1\nCREATE TABLE t (id int, v text);\n"
        "--changeset a:2\n"
        "--preconditions onFail:MARK_RAN onError:HALT\n"
        "--precondition-sql-check expectedResult:0 SELECT count(*) FROM pg_indexes WHERE indexname = 't_v'\n"
        "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN w int;\n")})
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [r.migration.version for r in report.results] == ["a:1", "a:2"]
    assert [s.statement.sql for s in report.results[1].statements] == [
        "SET lock_timeout = '2s'", "ALTER TABLE t ADD COLUMN w int"]
    assert [s.statement.line for s in report.results[1].statements] == [7, 8]
    assert _rules(report) == []
