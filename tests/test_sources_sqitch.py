"""sqitch projects: plan order, reworked scripts, deploy scripts only, psql's transaction rule."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import sqitch

LAYOUT = Path(__file__).parent / "layouts" / "sqitch"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "chef__chef-server" / "migrations"


def _rules(report, at_least="warning"):
    order = {"info": 0, "warning": 1, "error": 2}
    return [(Path(f.path).name, f.line, f.rule) for f in report.all_findings()
            if order[f.severity] >= order[at_least]]


def _copy(tmp_path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(LAYOUT, project)
    return project


def test_forward_parts_follow_the_plan_and_reworked_changes_run_their_tagged_script():
    history = sqitch.list_history(LAYOUT.resolve())
    assert [e.rel for e in history.forward] == [
        "deploy/orders.sql",
        "deploy/orders_total_fn@v1.0.sql",  # the first instance of the reworked change
        "deploy/orders_status_index.sql",
        "deploy/orders_email_index.sql",
        "deploy/orders_total_fn.sql",
        "deploy/widen_note.sql",
    ]
    assert [e.version for e in history.forward][1] == "orders_total_fn@v1.0"
    assert history.forward[3].options["conflicts"] == ["legacy_email"]
    assert [e.rel for e in history.reverse][0] == "revert/widen_note.sql"  # reverted last change first
    assert all(e.kind == "undo" for e in history.reverse) and len(history.reverse) == 6
    assert LAYOUT.resolve() / "verify" / "orders.sql" in history.companions
    assert history.skipped == {LAYOUT.resolve() / "deploy" / "scratch.sql":
                               "a deploy script of no change in sqitch.plan: sqitch never runs it"}
    assert history.problems == []


def test_check_from_the_project_root_flags_the_blocking_index_only():
    report = run([str(LAYOUT)], Config())
    paths = [Path(r.migration.path).relative_to(LAYOUT).as_posix() for r in report.results]
    assert paths == ["deploy/orders.sql", "deploy/orders_total_fn@v1.0.sql", "deploy/orders_status_index.sql",
                     "deploy/orders_email_index.sql", "deploy/orders_total_fn.sql", "deploy/widen_note.sql"]
    assert _rules(report) == [("orders_status_index.sql", 7, "MS001")]
    for result in report.results:
        migration = result.migration
        assert migration.format == "sqitch"
        assert migration.in_transaction is False  # psql: the script's own BEGIN opens one
        assert migration.transaction_reason == "sqitch runs the script with psql: its own BEGIN/COMMIT decide"
    status = next(r for r in report.results if r.migration.path.endswith("orders_status_index.sql"))
    index = next(s for s in status.statements if s.statement.sql.startswith("CREATE INDEX"))
    assert index.in_transaction is True  # inside the script's BEGIN ... COMMIT
    assert any("until commit" in f.lock for f in index.findings)
    # No revert script was read forward (its DROP TABLE would be MS043).
    assert not any("/revert/" in r.migration.path for r in report.results)
    assert any(path.endswith("deploy/scratch.sql") for path in report.skipped)


def test_cli_names_the_format_and_fails_on_the_index(capsys):
    code = main(["check", str(LAYOUT), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {m["format"] for m in data["migrations"]} == {"sqitch"}
    assert [m["version"] for m in data["migrations"]][-1] == "widen_note"


def test_concurrently_inside_the_scripts_begin_is_an_error(tmp_path):
    project = _copy(tmp_path)
    (project / "deploy" / "orders_email_index.sql").write_text(
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_email_idx ON orders (email);\n"
        "COMMIT;\n")
    report = run([str(project)], Config())
    assert ("orders_email_index.sql", 3, "MS004") in _rules(report, "error")


def test_a_plan_entry_without_its_script_is_reported_on_the_plan_line(tmp_path, capsys):
    project = _copy(tmp_path)
    (project / "deploy" / "widen_note.sql").unlink()
    code = main(["check", str(project), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and not [f for f in data["findings"] if f["rule"] == "MS099"]
    errors = [f for f in data["findings"] if f["rule"] == "MS056"]
    assert len(errors) == 1 and errors[0]["path"].endswith("sqitch.plan") and errors[0]["line"] == 12
    assert "deploy/widen_note.sql does not exist" in errors[0]["message"]
    assert len(data["migrations"]) == 5  # the others are still checked


def test_plan_refusals_are_input_errors(tmp_path):
    project = _copy(tmp_path)
    plan = project / "sqitch.plan"
    lines = plan.read_text().splitlines()
    lines[5] = "orders_total_fn [orders customers] 2024-01-02T10:05:00Z Ann Admin <ann@example.com> # x"
    lines.insert(12, "widen_note [orders] 2024-02-05T10:00:00Z Bob <bob@example.com> # again, no tag between")
    lines.append("not a change line")
    plan.write_text("\n".join(lines) + "\n")
    history = sqitch.list_history(project.resolve())
    messages = {p.line: p.message for p in history.problems}
    assert "requires customers, which is not in the plan" in messages[6]
    assert "planned again (line 12) without a tag between" in messages[13]
    assert "cannot parse this plan line" in messages[15]


def test_a_change_planned_before_what_it_requires_is_refused():
    text = ("%project=p\n"
            "b [a] 2024-01-01T00:00:00Z X <x@x> # needs a\n"
            "a 2024-01-01T00:00:01Z X <x@x>\n"
            "c [!a other:thing] 2024-01-01T00:00:02Z X <x@x>\n")
    project, changes, problems = sqitch.parse_plan(text, "sqitch.plan")
    problems += sqitch.resolve(project, changes, Path("/nonexistent"), "sql", "sqitch.plan")
    assert [(p.line, p.message) for p in problems] == [
        (2, "sqitch refuses the plan: b is planned before a, which it requires"),
        (4, "sqitch refuses to deploy c: it conflicts with a, deployed earlier in the plan"),
    ]


def test_conf_top_dir_and_deploy_dir_are_followed(tmp_path):
    project = tmp_path / "proj"
    (project / "db" / "scripts").mkdir(parents=True)
    (project / "sqitch.conf").write_text('[core]\n\tengine = pg\n\ttop_dir = db\n[engine "pg"]\n'
                                          "\tdeploy_dir = db/scripts\n")
    (project / "db" / "sqitch.plan").write_text("%project=p\nt 2024-01-01T00:00:00Z X <x@x> # t\n")
    (project / "db" / "scripts" / "t.sql").write_text("CREATE TABLE t (id int);\n")
    assert sqitch.detect(project) and not sqitch.detect(project / "db")  # the plan belongs to the project
    report = run([str(tmp_path)], Config())
    assert [Path(r.migration.path).name for r in report.results] == ["t.sql"]
    assert report.findings == [] and not report.broken
    assert report.results[0].migration.format == "sqitch"


def test_another_engine_is_not_read_as_postgresql(tmp_path):
    project = tmp_path / "lite"
    (project / "deploy").mkdir(parents=True)
    (project / "sqitch.conf").write_text("[core]\n\tengine = sqlite\n")
    (project / "sqitch.plan").write_text("%project=p\nt 2024-01-01T00:00:00Z X <x@x>\n")
    (project / "deploy" / "t.sql").write_text("CREATE TABLE t (id int);\n")
    history = sqitch.list_history(project.resolve())
    assert history.forward == [] and "sqitch engine 'sqlite'" in history.skipped[project.resolve() / "deploy" / "t.sql"]


# The real history ----------------------------------------------------------------------------------

def _corpus() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared corpus not present at {SHARED}")
    return SHARED


def test_chef_server_from_its_root_reads_every_planned_deploy_script(capsys):
    root = _corpus()
    code = main(["check", str(root), "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err
    data = json.loads(out)
    assert code == 1
    read = [m["path"] for m in data["migrations"]]
    deploy_scripts = sorted(root.rglob("deploy/*.sql"))
    orphan = "oc_erchef/schema/deploy/purge_sequel.sql"
    assert len(deploy_scripts) == 80 and len(read) == 79  # four projects, one orphan script
    assert {m["format"] for m in data["migrations"]} == {"sqitch"}
    assert not any("/revert/" in p or "/verify/" in p for p in read)
    assert any(s["path"].endswith(orphan) for s in data["skipped"])
    assert not any(p.endswith(orphan) for p in read)
    assert not data["findings"]  # no input error
    # Each of the four plans in order: baseline's first change, bifrost's reworked update_acl.
    bifrost = [Path(p).name for p in read if "/oc_bifrost/" in p]
    assert bifrost.index("update_acl@1.2.0.sql") < bifrost.index("update_acl@1.3.0.sql") < bifrost.index(
        "update_acl.sql")
    assert any(p.endswith("keys_update_trigger@users_email_functional_index.sql") for p in read)


def test_chef_server_dangerous_files_flagged_and_safe_files_silent():
    root = _corpus()
    report = run([str(root)], Config(lock_timeout="2s"))
    by_file: dict[str, set[str]] = {}
    for result in report.results:
        rel = result.migration.path.split("migrations/src/", 1)[1]
        by_file[rel] = {f.rule for f in result.all_findings() if f.severity in ("warning", "error")}
    erchef = "oc_erchef/schema/deploy/"
    assert "MS011" in by_file[erchef + "widen_uuid_fields.sql"]
    assert "MS001" in by_file[erchef + "node_policy_name_policy_group.sql"]
    for name in ("opc_users_customer_id_index.sql", "fix_unique_constraints_and_indices_in_org_user_association.sql",
                 "fix_unique_constraints_and_indices_in_org_user_invites.sql"):
        assert "MS001" in by_file[erchef + name], name
    for name in ("cookbook_version_checksums_by_org_id_checksum_index.sql", "cookbook_versions_cookbook_id_index.sql"):
        assert "MS001" in by_file["oc_erchef/schema/baseline/deploy/" + name], name
    for name in ("create_composite_key_org_migration_state.sql", "policy_groups.sql"):
        assert "MS022" in by_file[erchef + name], name
    # Its UNIQUE is added after `DELETE FROM policies` and DROP COLUMN in the same transaction: the
    # deleted rows stay in the heap until the commit, so the index build still reads them all.
    # The delete empties a live table: MS028's data loss, which MS033 leaves to it.
    assert {"MS028", "MS042", "MS022"} <= by_file[erchef + "policy_revisions.sql"]
    assert "MS033" not in by_file[erchef + "policy_revisions.sql"]
    assert "MS042" in by_file[erchef + "policy_groups.sql"]
    assert "MS021" in by_file[erchef + "users_password_hash_split.sql"]
    for safe in (erchef + "users_email_functional_index.sql", "oc_bifrost/schema/deploy/update_acl.sql",
                 erchef + "cookbook_artifacts.sql", erchef + "cookbook_artifact_version_checksums.sql",
                 erchef + "org_migration_state.sql", erchef + "multiple_keys_migration.sql",
                 erchef + "add_migration_type.sql"):
        assert by_file[safe] == set(), (safe, by_file[safe])


# fix and plan ----------------------------------------------------------------------------------------

def test_fix_moves_the_index_out_of_the_scripts_transaction_into_a_new_change(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    project = _copy(tmp_path)
    script = project / "deploy" / "orders_status_index.sql"
    fixes = plan_fixes([str(script)], Config(lock_timeout="2s"))
    assert fixes.remaining == [] and fixes.refused == []
    apply_fixes(fixes)
    name = "orders_status_index_orders_status_idx_concurrently"
    deploy = (project / "deploy" / f"{name}.sql").read_text()
    assert "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);" in deploy
    assert "BEGIN" not in deploy  # psql autocommits a script without BEGIN
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.orders_status_idx" in (project / "revert" / f"{name}.sql").read_text()
    assert (project / "verify" / f"{name}.sql").is_file()
    assert "CREATE INDEX" not in script.read_text()
    assert "DROP INDEX" not in (project / "revert" / "orders_status_index.sql").read_text()
    plan = (project / "sqitch.plan").read_text().splitlines()
    at = next(i for i, line in enumerate(plan) if line.startswith("orders_status_index "))
    assert plan[at + 1].startswith(f"{name} [orders_status_index] ")
    assert any("will not deploy it" in note for note in fixes.notes)  # later changes exist
    report = run([str(project)], Config(lock_timeout="2s"))
    assert _rules(report) == [] and not report.broken
    assert [Path(r.migration.path).name for r in report.results][3] == f"{name}.sql"


def test_fix_adds_concurrently_in_place_to_a_script_without_begin(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    project = _copy(tmp_path)
    script = project / "deploy" / "orders_email_index.sql"
    script.write_text("SET lock_timeout = '2s';\nCREATE INDEX orders_email_idx ON orders (email);\n")
    apply_fixes(plan_fixes([str(script)], Config()))
    assert script.read_text() == "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_email_idx ON orders (email);\n"
    assert (project / "sqitch.plan").read_text() == (LAYOUT / "sqitch.plan").read_text()


def test_plan_writes_scripts_and_appends_plan_lines(tmp_path):
    from migrasafe.plan.planner import prepare, write

    project = _copy(tmp_path)
    prepared = prepare(str(project), "add-unique", {"columns": "orders.email"}, Config())
    assert prepared.blocking == []
    write(prepared)
    lines = (project / "sqitch.plan").read_text().splitlines()
    assert lines[-2].startswith("index_orders_email_key [widen_note] ")
    assert lines[-1].startswith("add_orders_email_key [index_orders_email_key] ")
    assert lines[-1].endswith("Bob Builder <bob@example.com> # make orders_email_key a UNIQUE constraint using the index")
    index = (project / "deploy" / "index_orders_email_key.sql").read_text()
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in index and "BEGIN" not in index
    constraint = (project / "deploy" / "add_orders_email_key.sql").read_text()
    assert "BEGIN;" in constraint and "COMMIT;" in constraint
    for folder in ("revert", "verify"):
        assert (project / folder / "add_orders_email_key.sql").is_file()
    history = sqitch.list_history(project.resolve())
    assert [e.version for e in history.forward][-2:] == ["index_orders_email_key", "add_orders_email_key"]
    assert _rules(run([str(project)], Config(lock_timeout="2s"))) == [("orders_status_index.sql", 7, "MS001")]


def test_a_named_script_or_the_deploy_folder_is_read_in_its_project():
    script = LAYOUT / "deploy" / "orders_status_index.sql"
    report = run([str(script)], Config(lock_timeout="2s"))
    assert [r.migration.format for r in report.results] == ["sqitch"] * 3  # after the two changes before it
    assert [r.migration.meta["context"] for r in report.results] == [True, True, False]
    assert _rules(report) == [("orders_status_index.sql", 7, "MS001")]
    folder = run([str(LAYOUT / "deploy")], Config(lock_timeout="2s"))
    assert len(folder.results) == 6 and {r.migration.format for r in folder.results} == {"sqitch"}


def test_versioned_script_names_are_not_a_second_history(tmp_path):
    project = tmp_path / "app" / "db"
    (project / "deploy").mkdir(parents=True)
    (project / "revert").mkdir()
    (project / "sqitch.plan").write_text("%project=p\n001_users 2024-01-01T00:00:00Z X <x@x> # users\n")
    (project / "deploy" / "001_users.sql").write_text("BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n")
    (project / "revert" / "001_users.sql").write_text("BEGIN;\nDROP TABLE users;\nCOMMIT;\n")
    for named in (tmp_path, project):
        report = run([str(named)], Config())
        assert [(Path(r.migration.path).parent.name, r.migration.format) for r in report.results] == [
            ("deploy", "sqitch")], named
        assert _rules(report) == []
