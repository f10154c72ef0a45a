"""Drizzle Kit histories: the journal decides membership and order; one transaction for the run."""
import json
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config

LAYOUT = Path(__file__).parent / "layouts" / "drizzle"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "simstudioai__sim"


def serious(report):
    return [(Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
            if f.severity != "info"]


def project(root: Path, migrations: dict[str, str], extra: dict[str, str] | None = None,
            dialect: str = "postgresql", journal_only: tuple[str, ...] = ()) -> Path:
    folder = root / "drizzle"
    (folder / "meta").mkdir(parents=True)
    tags = list(migrations) + list(journal_only)
    entries = [{"idx": i, "version": "7", "when": 1700000000000 + i, "tag": t, "breakpoints": True}
               for i, t in enumerate(tags)]
    (folder / "meta" / "_journal.json").write_text(json.dumps({"version": "7", "dialect": dialect, "entries": entries}))
    for tag, sql in {**migrations, **(extra or {})}.items():
        (folder / f"{tag}.sql").write_text(sql)
    return folder


def test_sample_project_reads_journal_entries_only():
    report = run([str(LAYOUT)], Config(lock_timeout="2s"))
    migrations = [r.migration for r in report.results]
    assert [Path(m.path).name for m in migrations] == ["0000_brave_init.sql", "0001_email_index.sql", "0002_widen_email.sql"]
    assert {m.format for m in migrations} == {"drizzle"}
    assert all(m.in_transaction for m in migrations)
    assert all("all pending migrations in one transaction" in m.transaction_reason for m in migrations)
    assert serious(report) == [("0001_email_index.sql", "MS001")]
    assert [(f.rule, Path(f.path).name) for f in report.findings] == [("MS057", "0003_orphan.sql")]
    assert {Path(p).name: why for p, why in report.skipped.items()} == {
        "0003_orphan.sql": "not in meta/_journal.json: drizzle's migrator never runs it"}


def test_cli_json_names_the_format_and_the_orphan(capsys):
    assert main(["check", str(LAYOUT), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {m["format"] for m in out["migrations"]} == {"drizzle"}
    assert [Path(s["path"]).name for s in out["skipped"]] == ["0003_orphan.sql"]


def test_concurrently_anywhere_is_refused_inside_the_run(tmp_path):
    folder = project(tmp_path, {
        "0000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);",
        "0001_index": "CREATE INDEX CONCURRENTLY t_v ON t (v);",
    })
    report = run([str(folder)], Config(lock_timeout="2s"))
    assert [f.rule for f in report.results[1].all_findings() if f.severity == "error"] == ["MS004"]
    (refused,) = [f for f in report.results[1].all_findings() if f.rule == "MS004"]
    assert "no per-migration opt-out" in refused.fix


def test_an_embedded_commit_ends_drizzles_transaction(tmp_path):
    folder = project(tmp_path, {
        "0000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);",
        "0001_index": "SELECT 1;\nCOMMIT;--> statement-breakpoint\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);",
    })
    report = run([str(folder)], Config(lock_timeout="2s"))
    assert serious(report) == []


def test_pieces_between_breakpoints_need_no_semicolon(tmp_path):
    folder = project(tmp_path, {
        "0000_init": "CREATE TABLE t (id int PRIMARY KEY, v text)\n--> statement-breakpoint\nCREATE TABLE u (id int)",
    })
    report = run([str(folder)], Config())
    (result,) = report.results
    assert [s.statement.sql for s in result.statements] == [
        "CREATE TABLE t (id int PRIMARY KEY, v text)", "CREATE TABLE u (id int)"]
    assert [s.statement.line for s in result.statements] == [1, 3]
    assert serious(report) == [] and report.findings == []


def test_locks_accumulate_across_the_files_named(tmp_path):
    folder = project(tmp_path, {
        "0000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);\n--> statement-breakpoint\nCREATE TABLE u (id int PRIMARY KEY);",
        "0001_t": "ALTER TABLE t ADD COLUMN w text;",
        "0002_u": "ALTER TABLE u ADD COLUMN w text;",
    })
    report = run([str(folder / "0001_t.sql"), str(folder / "0002_u.sql")], Config(lock_timeout="2s"))
    last = report.results[-1]
    assert last.migration.meta["shared_transaction"] is True
    assert "locks taken by earlier migrations of the run are held" in last.migration.transaction_reason
    blocking = [f for f in last.all_findings() if f.rule == "MS031"]
    assert blocking and "public.t" in blocking[0].message and "public.u" in blocking[0].message
    # Checked alone, the same file locks one table only.
    alone = run([str(folder / "0002_u.sql")], Config(lock_timeout="2s"))
    assert not [f for f in alone.results[-1].all_findings() if f.rule == "MS031"]


def test_a_journal_entry_without_its_file_stops_the_migrator(tmp_path):
    folder = project(tmp_path, {"0000_init": "CREATE TABLE t (id int);"}, journal_only=("0001_gone",))
    report = run([str(folder)], Config())
    errors = [f for f in report.findings if f.severity == "error"]
    assert [(f.rule, Path(f.path).name) for f in errors] == [("MS056", "_journal.json")]
    assert "0001_gone.sql is not in the folder" in errors[0].message
    assert len(report.results) == 1
    assert main(["check", str(folder)]) == 1


def test_unreadable_journal_is_an_input_error_with_its_line(tmp_path):
    folder = tmp_path / "drizzle"
    (folder / "meta").mkdir(parents=True)
    (folder / "meta" / "_journal.json").write_text('{\n  "entries": [\n    {"tag": }\n  ]\n}\n')
    (folder / "0000_init.sql").write_text("CREATE TABLE t (id int);")
    report = run([str(folder)], Config())
    errors = [f for f in report.findings if f.rule == "MS099"]
    assert errors[0].line == 3 and "cannot read this journal" in errors[0].message
    assert "0000_init.sql" in " ".join(report.skipped)  # listed, not silently dropped


def test_real_history_from_its_project_root():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus project not found at {CORPUS}")
    report = run([str(CORPUS)], Config())
    folder = CORPUS / "migrations" / "packages" / "db" / "migrations"
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    read = [r.migration for r in report.results]
    assert len(read) == len(journal["entries"]) == len(list(folder.glob("*.sql"))) - 1 == 298
    assert [Path(m.path).stem for m in read] == [e["tag"] for e in journal["entries"]]
    assert {m.format for m in read} == {"drizzle"} and all(m.in_transaction for m in read)
    assert [Path(p).name for p in report.skipped] == ["0091_backfill_user_stats.sql"]
    assert not [f for f in report.findings if f.rule in ("MS099", "MS088")]
    rules = {Path(r.migration.path).name[:4]: {f.rule for f in r.all_findings() if f.severity != "info"}
             for r in report.results}
    for dangerous, rule in [("0040", "MS001"), ("0048", "MS001"), ("0034", "MS020"), ("0042", "MS020"),
                            ("0104", "MS045"), ("0127", "MS045"), ("0130", "MS045"), ("0006", "MS011"),
                            ("0044", "MS011"), ("0079", "MS021"), ("0089", "MS021"), ("0007", "MS022"),
                            ("0147", "MS022"), ("0178", "MS022")]:
        assert rule in rules[dangerous], dangerous
    # ALTER TYPE ... ADD VALUE in drizzle's run-wide transaction: told (info), since a later
    # migration of the same deploy cannot use the value; nothing uses it in the same file.
    added = {Path(r.migration.path).name[:4]: {(f.rule, f.severity) for f in r.all_findings()} for r in report.results}
    assert ("MS007", "info") in added["0167"]
    # CONCURRENTLY after an embedded COMMIT: outside drizzle's transaction, nothing to report about it.
    for after_commit in ("0233", "0238", "0239", "0220", "0234"):
        assert not rules[after_commit] & {"MS001", "MS002", "MS004"}, after_commit
    # NOT VALID first, VALIDATE later: no scan under the strong lock. VALIDATE in the same
    # transaction as the ADD is reported as MS025 (SOURCE.md's own caveat).
    for not_valid in ("0243", "0272", "0218", "0260", "0291"):
        assert not rules[not_valid] & {"MS020", "MS021"}, not_valid


def copy_layout(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(LAYOUT, tmp_path / "project")
    return tmp_path / "project" / "drizzle"


def test_fix_says_concurrently_has_no_opt_out_and_writes_nothing_for_it(tmp_path):
    from migrasafe.plan.fix import plan_fixes

    folder = copy_layout(tmp_path)
    fixes = plan_fixes([str(folder / "0001_email_index.sql")], Config(lock_timeout="2s"))
    assert fixes.changes == []
    (note,) = fixes.notes
    assert "not fixed" in note and "a migration cannot opt out" in note
    assert any("MS001" in line for line in fixes.remaining) or fixes.remaining == []


def test_fix_puts_validate_in_a_new_migration_with_its_journal_entry(tmp_path):
    from migrasafe.plan.fix import apply_fixes, plan_fixes

    folder = copy_layout(tmp_path)
    (folder / "0002_widen_email.sql").write_text(
        "CREATE TABLE owners (id bigint PRIMARY KEY);\n--> statement-breakpoint\n"
        "ALTER TABLE accounts ADD COLUMN owner_id bigint;\n--> statement-breakpoint\n"
        "ALTER TABLE accounts ADD CONSTRAINT accounts_owner_fk FOREIGN KEY (owner_id) REFERENCES owners (id);\n")
    fixes = plan_fixes([str(folder / "0002_widen_email.sql")], Config(lock_timeout="2s"))
    changed = sorted(c.path.name for c in fixes.changes)
    assert changed == ["0002_widen_email.sql", "0003_widen_email_validate_accounts_owner_fk.sql", "_journal.json"]
    apply_fixes(fixes)
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    assert [e["tag"] for e in journal["entries"]][-1] == "0003_widen_email_validate_accounts_owner_fk"
    assert journal["entries"][-1]["when"] > journal["entries"][-2]["when"]
    report = run([str(folder)], Config(lock_timeout="2s"))
    assert [Path(r.migration.path).name for r in report.results][-1] == "0003_widen_email_validate_accounts_owner_fk.sql"
    assert ("0002_widen_email.sql", "MS020") not in serious(report)


def test_plan_adds_journal_entries_and_refuses_what_cannot_leave_the_transaction(tmp_path):
    from migrasafe.plan.errors import PlanError
    from migrasafe.plan.planner import prepare, write as write_plan

    folder = copy_layout(tmp_path)
    with pytest.raises(PlanError, match="a migration cannot opt out"):
        prepare(str(folder), "add-index", {"columns": "accounts.email,id"}, Config())
    prepared = prepare(str(folder), "add-check", {"table": "accounts", "expression": "email <> ''"}, Config())
    assert prepared.blocking == []
    assert any("one transaction: run the migrator once per step" in n for n in prepared.plan.notes)
    write_plan(prepared)
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    tags = [e["tag"] for e in journal["entries"]]
    assert len(tags) == 5 and all((folder / f"{t}.sql").is_file() for t in tags)
    report = run([str(folder)], Config())
    assert len(report.results) == 5


def test_since_makes_the_changed_files_one_run(tmp_path):
    folder = project(tmp_path, {
        "0000_init": "CREATE TABLE t (id int PRIMARY KEY, v text);\n--> statement-breakpoint\nCREATE TABLE u (id int PRIMARY KEY);",
        "0001_t": "ALTER TABLE t ADD COLUMN w text;",
        "0002_u": "ALTER TABLE u ADD COLUMN w text;",
    })
    changed = frozenset({(folder / "0001_t.sql").resolve(), (folder / "0002_u.sql").resolve()})
    report = run([str(folder)], Config(lock_timeout="2s", changed=changed))
    sessions = [r.migration.meta.get("session") for r in report.results]
    assert sessions[0] is None and sessions[1] == sessions[2] is not None
    assert any(f.rule == "MS031" for f in report.results[2].all_findings())


def test_an_entry_older_than_the_one_before_it_never_runs_on_a_migrated_database(tmp_path):
    folder = project(tmp_path, {"0000_init": "CREATE TABLE t (id int);", "0001_late": "ALTER TABLE t ADD COLUMN v text;"})
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    journal["entries"][1]["when"] = journal["entries"][0]["when"] - 1000  # a branch merged with an older stamp
    (folder / "meta" / "_journal.json").write_text(json.dumps(journal))
    report = run([str(folder)], Config(lock_timeout="2s"))
    (error,) = [f for f in report.findings if f.rule == "MS099"]
    assert "never runs 0001_late on a database that has applied 0000_init" in error.message
    assert len(report.results) == 2  # both still checked, as a fresh database runs them


def test_pieces_after_an_embedded_commit_run_outside_the_transaction(pg_server):
    """What the reader models: drizzle opens a transaction and sends each piece as its own query; a
    piece ending in COMMIT closes that transaction, so a later CONCURRENTLY runs in autocommit."""
    import psycopg

    with psycopg.connect(pg_server.uri, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS pieces; CREATE TABLE pieces (v text)")
        conn.execute("BEGIN")
        conn.execute("ALTER TABLE pieces ADD COLUMN w text;\nCOMMIT;")
        conn.execute("CREATE INDEX CONCURRENTLY pieces_v ON pieces (v)")
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("CREATE INDEX CONCURRENTLY pieces_w ON pieces (w)")
        conn.execute("ROLLBACK")
