"""Atlas: atlas.hcl / atlas.sum directories in Atlas's own format and in other tools' formats, txmode,
delimiter, checkpoint, nolint, fix and plan, and the real openmeter history."""
import json
import shutil
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import read_migrations
from migrasafe.sources.atlas.hcl import migration_settings
from migrasafe.sources.atlas.nolint import rules_of
from migrasafe.sources.atlas.sumfile import listed_names, sum_text
from project_files import write

LAYOUTS = Path(__file__).parent / "layouts" / "atlas"
OPENMETER = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "openmeterio__openmeter"


def with_sum(folder: Path) -> None:
    names = sorted(p.name for p in folder.glob("*.sql"))
    (folder / "atlas.sum").write_text(sum_text(names, {n: (folder / n).read_bytes() for n in names}))


def findings_of(report, at_least="warning"):
    rank = {"info": 0, "warning": 1, "error": 2}
    return sorted((Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
                  if rank[f.severity] >= rank[at_least] and not r.migration.meta.get("context"))


def by_name(migrations):
    return {Path(m.path).name: m for m in migrations}


# Atlas's own format


def test_native_project_is_read_from_its_root_in_file_order_with_txmode():
    migrations, findings = read_migrations([str(LAYOUTS / "native")], Config())
    assert findings == []
    assert [Path(m.path).name for m in migrations] == sorted(
        p.name for p in (LAYOUTS / "native" / "migrations").glob("*.sql"))
    assert {m.format for m in migrations} == {"atlas"}
    named = by_name(migrations)
    assert named["20240102000000_users_email.sql"].in_transaction is True
    assert "--tx-mode file" in named["20240102000000_users_email.sql"].transaction_reason
    txmode_none = named["20240103000000_users_name.sql"]
    assert txmode_none.in_transaction is False
    assert txmode_none.transaction_reason.startswith("-- atlas:txmode none (line 1)")


def test_native_project_flags_the_index_and_nothing_else():
    report = run([str(LAYOUTS / "native")], Config(lock_timeout="2s"))
    assert findings_of(report) == [("20240102000000_users_email.sql", "MS001")]


def test_delimiter_directive_splits_where_atlas_does_and_keeps_lines():
    named = by_name(read_migrations([str(LAYOUTS / "native")], Config())[0])
    trigger = named["20240106000000_touch_trigger.sql"]
    assert not trigger.broken
    assert [s.line for s in trigger.statements] == [3, 9]
    assert trigger.statements[1].sql.startswith('CREATE TABLE "audit"')


def test_concurrently_in_a_file_without_txmode_none_fails_in_atlas_transaction(tmp_path):
    folder = write(tmp_path, {
        "migrations/1_a.sql": "CREATE TABLE t (a int);\n",
        "migrations/2_b.sql": "CREATE INDEX CONCURRENTLY t_a ON t (a);\n",
    }) / "migrations"
    with_sum(folder)
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert findings_of(report, "error") == [("2_b.sql", "MS004")]


def test_tx_mode_all_in_atlas_hcl_is_one_run_and_refuses_file_directives(tmp_path):
    write(tmp_path, {
        "atlas.hcl": 'env "prod" {\n  tx_mode = "all"\n  migration {\n    dir = "file://m"\n  }\n}\n',
        "m/1_a.sql": "CREATE TABLE t (a int);\n",
        "m/2_b.sql": "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n",
    })
    with_sum(tmp_path / "m")
    migrations, _ = read_migrations([str(tmp_path / "m" / "1_a.sql"), str(tmp_path / "m" / "2_b.sql")], Config())
    first, second = migrations
    assert first.in_transaction and first.meta.get("shared_transaction")
    assert "tx-mode all" in first.transaction_reason or "one transaction" in first.transaction_reason
    assert second.broken
    assert any(f.rule == "MS099" and "tx-mode is all" in f.message for f in second.findings)


def test_txmode_outside_the_header_is_not_read_and_the_reason_says_so(tmp_path):
    write(tmp_path, {"m/1_a.sql": "CREATE TABLE t (a int);\n",
                     "m/2_b.sql": "-- atlas:txmode none\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n"})
    with_sum(tmp_path / "m")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    second = report.results[1].migration
    assert second.in_transaction is True
    assert "line 1 is not in the file header" in second.transaction_reason
    assert findings_of(report, "error") == [("2_b.sql", "MS004")]


def test_configuration_stands_for_the_tx_mode_flag():
    named = str(LAYOUTS / "native" / "migrations" / "20240102000000_users_email.sql")
    (none,) = [m for m in read_migrations([named], Config(transaction={"atlas": False}))[0]
               if m.path.endswith("users_email.sql")]
    assert none.in_transaction is False and "transaction.atlas = false" in none.transaction_reason
    migrations, _ = read_migrations([named], Config(transaction_scope={"atlas": "run"}))
    assert migrations[-1].in_transaction and migrations[-1].meta.get("shared_transaction")


def test_invalid_txmode_is_an_input_error_with_its_line(tmp_path):
    write(tmp_path, {"m/1_a.sql": "-- atlas:txmode sometimes\n\nSELECT 1;\n"})
    with_sum(tmp_path / "m")
    (migration,), _ = read_migrations([str(tmp_path / "m")], Config())
    assert migration.broken
    assert [(f.rule, f.line) for f in migration.findings] == [("MS099", 1)]


def test_checkpoint_and_baseline_skip_what_atlas_does_not_run(tmp_path):
    write(tmp_path, {
        "atlas.hcl": 'env "local" {\n  migration {\n    dir = "file://m"\n    baseline = "3"\n  }\n}\n',
        "m/1_a.sql": "CREATE TABLE old (a int);\n",
        "m/2_checkpoint.sql": "-- atlas:checkpoint\n\nCREATE TABLE t (a int);\n",
        "m/3_b.sql": "ALTER TABLE t ADD COLUMN b int;\n",
        "m/4_c.sql": "ALTER TABLE t ADD COLUMN c int;\n",
    })
    with_sum(tmp_path / "m")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [Path(r.migration.path).name for r in report.results] == ["4_c.sql"]
    reasons = {Path(k).name: v for k, v in report.skipped.items()}
    assert "checkpoint 2_checkpoint.sql" in reasons["1_a.sql"]
    assert "baseline" in reasons["2_checkpoint.sql"] and "baseline" in reasons["3_b.sql"]


def test_a_folder_with_atlas_sum_names_its_project_file_above_it():
    folder = LAYOUTS / "golang-migrate" / "db" / "migrations"
    migrations, findings = read_migrations([str(folder)], Config())
    assert findings == []
    assert len(migrations) == 4 and all(m.path.endswith(".up.sql") for m in migrations)
    assert all("atlas.hcl (env \"local\") sets format = golang-migrate" in m.transaction_reason for m in migrations)


def test_atlas_sum_alone_infers_the_format_from_the_names_it_lists(tmp_path):
    shutil.copytree(LAYOUTS / "golang-migrate" / "db" / "migrations", tmp_path / "m")
    migrations, _ = read_migrations([str(tmp_path / "m")], Config())
    assert [Path(m.path).name for m in migrations][0] == "20240101000000_create_orders.up.sql"
    assert len(migrations) == 4
    assert "the names atlas.sum lists (golang-migrate format)" in migrations[0].transaction_reason


def test_atlas_hcl_at_a_repository_root_leaves_other_histories_to_be_found(tmp_path):
    shutil.copytree(LAYOUTS / "golang-migrate", tmp_path / "repo")
    write(tmp_path / "repo", {"tools/db/migrations/20240101000000_x.sql":
                              "-- migrate:up\nCREATE TABLE x (a int);\n-- migrate:down\nDROP TABLE x;\n"})
    migrations, findings = read_migrations([str(tmp_path / "repo")], Config())
    assert findings == []
    assert sorted({m.format for m in migrations}) == ["atlas", "dbmate"]
    assert sum(m.format == "atlas" for m in migrations) == 4  # the directory read once, not twice


# Other tools' formats


def test_golang_migrate_format_reads_up_files_only_with_golang_migrate_transactions():
    report = run([str(LAYOUTS / "golang-migrate")], Config(lock_timeout="2s"))
    names = [Path(r.migration.path).name for r in report.results]
    assert names == ["20240101000000_create_orders.up.sql", "20240102000000_orders_customer.up.sql",
                     "20240103000000_orders_note.up.sql", "20240104000000_widen_note.up.sql"]
    assert {r.migration.format for r in report.results} == {"atlas"}
    named = {Path(r.migration.path).name: r.migration for r in report.results}
    # golang-migrate sends a file as one query: two statements are one implicit transaction.
    assert named["20240102000000_orders_customer.up.sql"].in_transaction is True
    assert named["20240102000000_orders_customer.up.sql"].meta["implicit_transaction"] is True
    assert named["20240103000000_orders_note.up.sql"].in_transaction is False  # CONCURRENTLY alone
    assert findings_of(report) == [("20240102000000_orders_customer.up.sql", "MS001")]


def test_configuration_can_say_atlas_applies_a_foreign_format_directory():
    config = Config(lock_timeout="2s", transaction={"atlas": True})
    report = run([str(LAYOUTS / "golang-migrate")], config)
    named = {Path(r.migration.path).name: r for r in report.results}
    assert named["20240103000000_orders_note.up.sql"].migration.in_transaction is True
    assert ("20240103000000_orders_note.up.sql", "MS004") in findings_of(report, "error")


def test_goose_format_directory_uses_the_goose_reader(tmp_path):
    write(tmp_path, {
        "atlas.hcl": 'env "dev" {\n  migration {\n    dir = "file://migrations"\n    format = goose\n  }\n}\n',
        "migrations/1_a.sql": "-- +goose Up\nCREATE TABLE t (a int);\n-- +goose Down\nDROP TABLE t;\n",
        "migrations/2_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n"
                              "-- +goose Down\nDROP INDEX t_a;\n",
    })
    with_sum(tmp_path / "migrations")
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == []
    assert [m.format for m in migrations] == ["atlas", "atlas"]
    assert [[s.sql for s in m.statements] for m in migrations] == [
        ["CREATE TABLE t (a int)"], ["CREATE INDEX CONCURRENTLY t_a ON t (a)"]]
    assert [m.in_transaction for m in migrations] == [True, False]
    assert "goose" in migrations[1].transaction_reason


def test_flyway_and_dbmate_format_directories_use_their_readers(tmp_path):
    write(tmp_path, {
        "f/atlas.hcl": 'env "x" {\n  migration {\n    dir = "file://sql"\n    format = flyway\n  }\n}\n',
        "f/sql/V1__create.sql": "CREATE TABLE t (a int);\n",
        "f/sql/V2__index.sql": "CREATE INDEX CONCURRENTLY t_a ON t (a);\n",
        "f/sql/U2__index.sql": "DROP INDEX t_a;\n",
        "d/atlas.hcl": 'env "x" {\n  migration {\n    dir = "file://db"\n    format = dbmate\n  }\n}\n',
        "d/db/20240101000000_create.sql": "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n",
        "d/db/20240102000000_index.sql": ("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n"
                                          "-- migrate:down\nDROP INDEX t_a;\n"),
    })
    with_sum(tmp_path / "f" / "sql")
    with_sum(tmp_path / "d" / "db")
    flyway, findings = read_migrations([str(tmp_path / "f")], Config())
    assert findings == [] and [Path(m.path).name for m in flyway] == ["V1__create.sql", "V2__index.sql"]
    assert [m.in_transaction for m in flyway] == [True, False]  # Flyway runs CONCURRENTLY outside
    dbmate, findings = read_migrations([str(tmp_path / "d")], Config())
    assert findings == [] and [[s.sql for s in m.statements] for m in dbmate] == [
        ["CREATE TABLE t (a int)"], ["CREATE INDEX CONCURRENTLY t_a ON t (a)"]]
    assert [m.in_transaction for m in dbmate] == [True, False]
    assert {m.format for m in flyway + dbmate} == {"atlas"}


def test_unknown_format_and_missing_dir_are_input_errors(tmp_path):
    write(tmp_path, {"a/atlas.hcl": 'env "x" {\n  migration {\n    dir = "file://m"\n    format = "rails"\n  }\n}\n',
                     "a/m/1_a.sql": "SELECT 1;\n",
                     "b/atlas.hcl": 'env "x" {\n  migration {\n    dir = "file://nowhere"\n  }\n}\n'})
    for project in ("a", "b"):
        code = main(["check", str(tmp_path / project), "--format", "json"])
        assert code == 2


# nolint


def test_nolint_codes_and_analyzers_map_to_migrasafe_rules():
    assert rules_of("DS103") == ["MS042"]
    assert rules_of("destructive") == ["MS043", "MS042"]
    assert rules_of("MF101") == []  # data-dependent unique index: no migrasafe rule means that
    assert rules_of("data_depe") == []
    # Bare: the rules of the analyzers Atlas runs, concurrent_index only when atlas.hcl configures it.
    assert rules_of("") == ["MS043", "MS042", "MS041", "MS040", "MS026"]
    assert rules_of("", configured={"concurrent_index"})[-3:] == ["MS001", "MS002", "MS022"]
    assert rules_of("PG101 BC102") == ["MS001", "MS040"]


def test_nolint_suppresses_only_matching_findings_on_its_statement(tmp_path):
    write(tmp_path, {
        "m/1_a.sql": "CREATE TABLE t (a int, b int, c int, d int);\n",
        "m/2_b.sql": ("SET lock_timeout = '2s';\n"
                      "-- drop \"b\"\n-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN b;\n"
                      "-- atlas:nolint MF101\nCREATE UNIQUE INDEX t_a ON t (a);\n"
                      "-- atlas:nolint\nCREATE INDEX t_c ON t (c);\n"
                      "ALTER TABLE t DROP COLUMN d;\n"),
    })
    with_sum(tmp_path / "m")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    got = findings_of(report, "info")
    assert ("2_b.sql", "MS001") in got  # MF101 is about duplicates, not the lock
    # No atlas.hcl enables concurrent_index: Atlas never checked t_c's lock, so its bare nolint did not waive it.
    assert sum(1 for g in got if g == ("2_b.sql", "MS001")) == 2
    assert ("2_b.sql", "MS042") in got  # DROP COLUMN d has no directive
    lines = sorted(f.line for r in report.results for f in r.all_findings() if f.rule == "MS042")
    assert lines == [9]
    assert not any(rule in ("MS092", "MS093") for _, rule in got)


def test_nolint_in_the_header_covers_the_file(tmp_path):
    write(tmp_path, {
        "m/1_a.sql": "CREATE TABLE t (a int, b int);\n",
        "m/2_b.sql": "-- atlas:nolint\n\nSET lock_timeout = '2s';\nALTER TABLE t DROP COLUMN b;\nDROP TABLE t;\n",
    })
    with_sum(tmp_path / "m")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert findings_of(report, "info") == []
    assert [(h["rule"], h["by"]) for h in report.results[-1].migration.meta["suppressed"]] == [
        ("MS042", "atlas:nolint"), ("MS043", "atlas:nolint")]


def test_bare_nolint_waives_only_what_the_projects_atlas_lint_runs(tmp_path, capsys):
    """openmeter's shape: the lint block configures destructive and data_depend, not
    concurrent_index, so a bare nolint never waived the index's write lock."""
    index_file = "-- atlas:nolint\nCREATE UNIQUE INDEX t_a ON t (a);\n"
    hcl = ('lint {\n  destructive {\n    error = true\n  }\n  data_depend {\n    error = true\n  }\n}\n'
           'env "prod" {\n  migration {\n    dir = "file://m"\n  }\n}\n')
    write(tmp_path, {"atlas.hcl": hcl, "m/1_a.sql": "CREATE TABLE t (a int, b int);\n", "m/2_b.sql": index_file,
                     "m/3_c.sql": "-- atlas:nolint\nALTER TABLE t DROP COLUMN b;\n"})
    with_sum(tmp_path / "m")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert ("2_b.sql", "MS001") in findings_of(report, "warning")
    assert ("3_c.sql", "MS042") not in findings_of(report, "info")
    # With concurrent_index in the lint block Atlas reports PG101 there, which the nolint waives.
    (tmp_path / "atlas.hcl").write_text(hcl.replace("lint {\n", "lint {\n  concurrent_index {\n    error = true\n  }\n"))
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert ("2_b.sql", "MS001") not in findings_of(report, "info")
    # The suppressions are counted in the text summary and listed in JSON.
    assert main(["check", "--no-cache", str(tmp_path)]) in (0, 1)
    text = capsys.readouterr().out
    assert ", 2 suppressed (2 by atlas:nolint)" in text
    assert main(["check", "--no-cache", "--format", "json", str(tmp_path)]) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    hidden = {Path(m["path"]).name: [h["rule"] for h in m.get("suppressed", [])] for m in data["migrations"]}
    assert hidden["2_b.sql"] == ["MS001"] and hidden["3_c.sql"] == ["MS042"]


# atlas.hcl and atlas.sum


def test_hcl_reader_resolves_locals_variables_and_bare_formats():
    text = ('variable "d" {\n  default = "file://x"\n}\nlocals {\n  f = "flyway"\n}\n'
            '/* a comment { */\nenv "a" {\n  migration {\n    dir = var.d\n    format = "${local.f}"\n  }\n}\n'
            'env "b" {\n  migration {\n    dir = "file://y" // trailing\n    format = golang-migrate\n  }\n}\n')
    got = [(s.env, s.dir, s.format) for s in migration_settings(text)]
    assert got == [("a", "file://x", "flyway"), ("b", "file://y", "golang-migrate")]


def test_sum_text_reproduces_atlas_sum_files():
    for folder in (LAYOUTS / "native" / "migrations", LAYOUTS / "golang-migrate" / "db" / "migrations"):
        before = (folder / "atlas.sum").read_text()
        names = listed_names(before)
        assert sum_text(names, {n: (folder / n).read_bytes() for n in names}) == before


# fix and plan


def test_fix_adds_txmode_none_to_a_one_statement_file_and_rewrites_atlas_sum(tmp_path):
    shutil.copytree(LAYOUTS / "native", tmp_path / "p")
    folder = tmp_path / "p" / "migrations"
    (folder / "20240107000000_more.sql").write_text('CREATE INDEX "users_legacy" ON "users" ("name");\n')
    with_sum(folder)
    code = main(["fix", str(folder / "20240107000000_more.sql"), "--write"])
    assert code in (0, 1)
    text = (folder / "20240107000000_more.sql").read_text()
    assert text.startswith("-- atlas:txmode none\n\n")
    assert "CREATE INDEX CONCURRENTLY" in text
    sums = (folder / "atlas.sum").read_text()
    names = listed_names(sums)
    assert sums == sum_text(names, {n: (folder / n).read_bytes() for n in names})
    migrations, _ = read_migrations([str(folder / "20240107000000_more.sql")], Config())
    assert migrations[-1].in_transaction is False


def test_fix_moves_concurrently_out_of_a_multi_statement_file_into_a_new_txmode_none_file(tmp_path):
    shutil.copytree(LAYOUTS / "native", tmp_path / "p")
    folder = tmp_path / "p" / "migrations"
    before = {p.name for p in folder.iterdir()}
    main(["fix", str(folder / "20240102000000_users_email.sql"), "--write"])
    added = sorted({p.name for p in folder.iterdir()} - before)
    assert len(added) == 1 and added[0].startswith("20240102000001_")
    assert (folder / added[0]).read_text().startswith("-- atlas:txmode none\n\n")
    assert added[0] in listed_names((folder / "atlas.sum").read_text())
    report = run([str(tmp_path / "p")], Config(lock_timeout="2s"))
    assert not [f for f in findings_of(report, "warning") if f[1] in ("MS001", "MS004")]


def test_fix_in_a_golang_migrate_format_directory_writes_golang_migrate_files(tmp_path):
    shutil.copytree(LAYOUTS / "golang-migrate", tmp_path / "p")
    folder = tmp_path / "p" / "db" / "migrations"
    main(["fix", str(folder / "20240102000000_orders_customer.up.sql"), "--write"])
    names = {p.name for p in folder.iterdir()}
    assert "20240102000001_orders_customer_orders_customer_concurrently.up.sql" in names or any(
        n.startswith("20240102000001_") and n.endswith(".up.sql") for n in names)
    assert any(n.startswith("20240102000001_") and n.endswith(".down.sql") for n in names)
    new_up = next(n for n in names if n.startswith("20240102000001_") and n.endswith(".up.sql"))
    listed = listed_names((folder / "atlas.sum").read_text())
    assert new_up in listed and not any(n.endswith(".down.sql") for n in listed)


def test_plan_writes_into_the_directory_atlas_hcl_names_and_rewrites_atlas_sum(tmp_path):
    shutil.copytree(LAYOUTS / "native", tmp_path / "p")
    folder = tmp_path / "p" / "migrations"
    before = {p.name for p in folder.glob("*.sql")}
    code = main(["plan", "add-index", "users.name", "--dir", str(tmp_path / "p")])
    assert code == 0
    added = sorted({p.name for p in folder.glob("*.sql")} - before)
    assert len(added) == 1 and (folder / added[0]).read_text().startswith("-- atlas:txmode none\n\n")
    assert not list((tmp_path / "p").glob("*.sql"))
    sums = (folder / "atlas.sum").read_text()
    assert listed_names(sums) == sorted(before | set(added))
    assert sums == sum_text(listed_names(sums), {n: (folder / n).read_bytes() for n in listed_names(sums)})
    migrations, _ = read_migrations([str(folder / added[0])], Config())
    assert migrations[-1].in_transaction is False


# The real history


@pytest.mark.skipif(not OPENMETER.is_dir(), reason="shared corpus openmeterio__openmeter is not on this machine")
def test_openmeter_from_its_root(capsys):
    code = main(["check", str(OPENMETER), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    folder = OPENMETER / "migrations" / "tools" / "migrate" / "migrations"
    ups = sorted(p.name for p in folder.glob("*.up.sql"))
    names = [Path(m["path"]).name for m in data["migrations"]]
    assert names == ups and len(ups) == 269
    assert not any(n.endswith(".down.sql") for n in names)
    assert {m["format"] for m in data["migrations"]} == {"atlas"}
    assert not [f for f in data["findings"] if f["rule"] in ("MS099", "MS088")]
    rules = {}
    for m in data["migrations"]:
        rules[Path(m["path"]).name] = {f["rule"] for s in m["statements"] for f in s["findings"]} | {
            f["rule"] for f in m["findings"]}
    assert "MS001" in rules["20240903155435_entitlement-expired-index.up.sql"]
    assert "MS001" in rules["20240918204720_customer.up.sql"]
    assert "MS001" in rules["20240920070940_indexing-fixes.up.sql"]  # MF101 is not the lock
    assert "MS020" in rules["20240923180033_customer_drop_key.up.sql"]
    assert "MS020" in rules["20241024122007_line-item-fixes.up.sql"]
    # Its foreign keys are all NOT VALID (SOURCE.md counts them as FKs): only the type change is flagged.
    assert "MS011" in rules["20260709134422_add_ledger_internal_fks.up.sql"]
    assert "MS020" not in rules["20260709134422_add_ledger_internal_fks.up.sql"]
    # managed_by is added, backfilled and set NOT NULL in the file: MS045, which says the scan too.
    assert "MS045" in rules["20250121141512_billing-managed-by.up.sql"]
    assert "MS024" not in rules["20250121141512_billing-managed-by.up.sql"]
    assert "MS021" in rules["20260421150206_require_child_unique_reference_id_on_detailed_lines.up.sql"]
    # NOT VALID foreign keys, then VALIDATE in the same implicit transaction: only MS025 for it.
    assert "MS020" not in rules["20260319155747_tax-code-fk.up.sql"]
    assert "MS025" in rules["20260319155747_tax-code-fk.up.sql"]
    init = rules["20240826120919_init.up.sql"]
    assert not init & {"MS001", "MS020", "MS021"}  # tables created in the same file
    # `-- atlas:nolint BC102` above each generated rename: the team accepted them.
    assert "MS040" not in rules["20240924164504_billing-profile.up.sql"]
