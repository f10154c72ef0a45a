"""goose and sql-migrate: annotated Up/Down sections, their transaction opt-outs, order, and the
sample projects in tests/layouts/ checked from their roots."""
import json
import shutil
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources import read_migrations
from project_files import write

LAYOUTS = Path(__file__).parent / "layouts"
HATCHET = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hatchet-dev__hatchet"


def findings_of(report, at_least="warning"):
    rank = {"info": 0, "warning": 1, "error": 2}
    return sorted((Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
                  if rank[f.severity] >= rank[at_least] and not r.migration.meta.get("context"))


# goose


def test_goose_reads_up_sections_only_in_version_order(tmp_path):
    write(tmp_path, {
        "20240102000000_b.sql": "-- +goose Up\nSELECT 2;\n-- +goose Down\nDROP TABLE nothing_here;\n",
        "00001_a.sql": "-- +goose Up\nCREATE TABLE t (a int);\n\n-- +goose Down\nDROP TABLE t;\n",
    })
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == []
    assert [(m.format, m.version) for m in migrations] == [("goose", "00001"), ("goose", "20240102000000")]
    assert [s.sql for s in migrations[0].statements] == ["CREATE TABLE t (a int)"]
    assert [s.line for s in migrations[1].statements] == [2]  # the file's own line numbers
    assert all(m.in_transaction for m in migrations)
    assert migrations[0].transaction_reason == "goose runs each migration in a transaction"


def test_goose_annotations_are_case_insensitive_and_no_transaction_counts_anywhere(tmp_path):
    write(tmp_path, {"1_a.sql": "-- +goose up\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose down\n"
                                "-- +goose no transaction\nDROP INDEX CONCURRENTLY i;\n"})
    (migration,), _ = read_migrations([str(tmp_path)], Config())
    assert migration.in_transaction is False
    assert "NO TRANSACTION" in migration.transaction_reason and "line 4" in migration.transaction_reason
    assert [s.sql for s in migration.statements] == ["CREATE INDEX CONCURRENTLY i ON t (a)"]


def test_goose_file_without_up_and_duplicate_versions_are_refused(tmp_path):
    write(tmp_path, {"1_a.sql": "-- +goose Up\nSELECT 1;\n", "2_b.sql": "-- +goose Down\nSELECT 1;\n",
                     "2_c.sql": "-- +goose Up\nSELECT 1;\n"})
    migrations, findings = read_migrations([str(tmp_path)], Config())
    messages = [f.message for f in findings] + [f.message for m in migrations for f in m.findings]
    assert any("version 2 is also used by" in m for m in messages)
    broken = [m for m in migrations if m.broken]
    assert [Path(m.path).name for m in broken] == ["2_b.sql"]
    assert "must start with a '-- +goose Up' annotation" in broken[0].findings[0].message


def test_goose_statement_block_with_concurrently_beside_others_fails_outside_a_transaction(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- +goose Up\nCREATE TABLE t (a int);\n",
        "2_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
                   "CREATE INDEX CONCURRENTLY t_a ON t (a);\nANALYZE t;\n-- +goose StatementEnd\n",
        "3_c.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_a2 ON t (a);\nANALYZE t;\n",
    })
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert ("2_b.sql", "MS004") in findings_of(report, "error")
    assert ("3_c.sql", "MS004") not in findings_of(report, "error")  # sent statement by statement


def test_goose_environment_substitution_uses_stand_ins_and_says_so(tmp_path):
    write(tmp_path, {"1_a.sql": "-- +goose Up\n-- +goose ENVSUB ON\nCREATE SCHEMA ${SCHEMA};\n-- +goose ENVSUB OFF\n"})
    (migration,), _ = read_migrations([str(tmp_path)], Config())
    assert migration.statements[0].node is not None
    assert [(f.rule, f.line) for f in migration.findings] == [("MS090", 3)]


def test_goose_sample_project_from_its_root(capsys):
    assert main(["check", "--format", "json", str(LAYOUTS / "goose")]) == 1
    data = json.loads(capsys.readouterr().out)
    names = [Path(m["path"]).name for m in data["migrations"]]
    assert names == ["00001_create_orders.sql", "00002_orders_customer_index.sql", "00003_widen_note.sql",
                     "00004_concurrent_index.sql", "00005_touch_updated.sql"]
    assert {m["format"] for m in data["migrations"]} == {"goose"}
    assert [m["in_transaction"] for m in data["migrations"]] == [True, True, True, False, True]
    flagged = [(Path(m["path"]).name, f["rule"]) for m in data["migrations"] for s in m["statements"]
               for f in s["findings"] if f["severity"] != "info"]
    assert flagged == [("00002_orders_customer_index.sql", "MS001")]
    # The Down part of 00003 narrows the column again: never analysed forward.
    assert [s["sql"] for s in data["migrations"][2]["statements"]][-1].endswith("TYPE varchar(200)")
    # embed.go is no migration; db/schema.sql is outside the migrations folder.
    assert [Path(s["path"]).name for s in data["skipped"]] == ["00006_backfill.go"]
    assert [(f["rule"], Path(f["path"]).name) for f in data["findings"]] == [("MS086", "00006_backfill.go")]


def test_fix_adds_no_transaction_to_a_one_statement_goose_file(tmp_path, capsys):
    project = shutil.copytree(LAYOUTS / "goose", tmp_path / "p")
    target = project / "db" / "migrations" / "00007_note_index.sql"
    target.write_text("-- +goose Up\nCREATE INDEX orders_x_idx ON orders (note);\n\n-- +goose Down\nDROP INDEX orders_x_idx;\n")
    assert main(["fix", "--write", str(target)]) == 0
    assert target.read_text().startswith("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY orders_x_idx")
    capsys.readouterr()
    assert main(["check", "--format", "json", str(target)]) == 0
    (checked,) = json.loads(capsys.readouterr().out)["migrations"]
    assert checked["in_transaction"] is False


def test_plan_writes_goose_migrations(tmp_path, capsys):
    project = shutil.copytree(LAYOUTS / "goose", tmp_path / "p")
    folder = project / "db" / "migrations"
    before = {p.name for p in folder.iterdir()}
    assert main(["plan", "add-index", "orders.note", "--name", "orders_note_plain_idx", "--dir", str(folder)]) == 0
    new = sorted({p.name for p in folder.iterdir()} - before)
    assert len(new) == 1 and new[0].startswith("00007_") and new[0].endswith(".sql")
    text = (folder / new[0]).read_text()
    assert "-- +goose NO TRANSACTION\n-- +goose Up\n" in text and "CONCURRENTLY" in text and "-- +goose Down" in text
    capsys.readouterr()
    assert main(["check", str(folder)]) in (0, 1)
    assert f"{new[0]}:" not in capsys.readouterr().out  # the planned file itself raises nothing


# sql-migrate


def test_sql_migrate_reads_up_sections_and_notransaction(tmp_path):
    write(tmp_path, {
        "10_c.sql": "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +migrate Down\nDROP INDEX i;\n",
        "2_b.sql": "-- +migrate Up\nALTER TABLE t ADD COLUMN b int;\n-- +migrate Down\nALTER TABLE t DROP COLUMN b;\n",
        "1_a.sql": "-- +migrate Up\nCREATE TABLE t (a int);\n",
    })
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == []
    assert [Path(m.path).name for m in migrations] == ["1_a.sql", "2_b.sql", "10_c.sql"]
    assert [m.format for m in migrations] == ["sql-migrate"] * 3
    assert [m.in_transaction for m in migrations] == [True, True, False]
    assert [s.sql for s in migrations[1].statements] == ["ALTER TABLE t ADD COLUMN b int"]


def test_sql_migrate_commands_are_case_sensitive(tmp_path):
    # sql-migrate only knows "-- +migrate Up": a lower-case "up" is an unknown command.
    write(tmp_path, {"1_a.sql": "-- +migrate Up\nSELECT 1;\n-- +migrate up\nSELECT 2;\n"})
    (migration,), _ = read_migrations([str(tmp_path)], Config())
    assert migration.broken and "does not know the command" in migration.findings[0].message


def test_sql_migrate_sample_project_from_its_root(capsys):
    assert main(["check", "--format", "json", str(LAYOUTS / "sql-migrate")]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [Path(m["path"]).name for m in data["migrations"]] == [
        "1_create_orders.sql", "2_orders_customer_index.sql", "10_widen_note.sql", "11_concurrent_index.sql"]
    assert [m["in_transaction"] for m in data["migrations"]] == [True, True, True, False]
    flagged = [(Path(m["path"]).name, f["rule"]) for m in data["migrations"] for s in m["statements"]
               for f in s["findings"] if f["severity"] != "info"]
    assert flagged == [("2_orders_customer_index.sql", "MS001")]


def test_fix_adds_notransaction_to_a_one_statement_sql_migrate_file(tmp_path):
    project = shutil.copytree(LAYOUTS / "sql-migrate", tmp_path / "p")
    target = project / "migrations" / "12_note_index.sql"
    target.write_text("-- +migrate Up\nCREATE INDEX orders_x_idx ON orders (note);\n-- +migrate Down\nDROP INDEX orders_x_idx;\n")
    assert main(["fix", "--write", str(target)]) == 0
    assert target.read_text().startswith("-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY")


def test_fix_split_of_a_sql_migrate_file_follows_the_history_separator(tmp_path):
    # The sample history names its files 1_create_orders.sql, 2_...: the split keeps the "_".
    project = shutil.copytree(LAYOUTS / "sql-migrate", tmp_path / "p")
    folder = project / "migrations"
    before = {p.name for p in folder.iterdir()}
    assert main(["fix", "--write", str(folder / "2_orders_customer_index.sql")]) == 0
    new = sorted({p.name for p in folder.iterdir()} - before)
    assert new == ["3_orders_customer_index_orders_customer_idx_concurrently.sql"]
    assert (folder / new[0]).read_text().count("-- +migrate Up notransaction\n") == 1


# The real history


@pytest.mark.skipif(not HATCHET.is_dir(), reason="shared corpus not present (../shared/corpus)")
def test_hatchet_goose_history_from_its_root(capsys):
    folder = HATCHET / "migrations" / "cmd" / "hatchet-migrate" / "migrate" / "migrations"
    code = main(["check", "--format", "json", str(HATCHET)])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    sql_files = sorted(p.name for p in folder.glob("*.sql"))
    assert sorted(Path(m["path"]).name for m in data["migrations"]) == sql_files
    assert {m["format"] for m in data["migrations"]} == {"goose"}
    go_files = sorted(p.name for p in folder.glob("*.go"))
    assert sorted(Path(s["path"]).name for s in data["skipped"]) == go_files
    by_name = {Path(m["path"]).name: m for m in data["migrations"]}
    rules = {name: {f["rule"] for s in m["statements"] for f in s["findings"]} for name, m in by_name.items()}
    # SOURCE.md's dangerous files
    assert "MS001" in rules["20260509015727_v1_0_106.sql"]  # unique index on the hot v1_queue_item
    assert "MS020" in rules["20240202042355_v0_9_0.sql"]  # FK without NOT VALID
    assert "MS011" in rules["20240215162148_v0_10_2.sql"]  # int -> bigint
    assert "MS010" in rules["20251205170304_v1_0_55.sql"]  # volatile default
    # ...and its safe ones: every CONCURRENTLY sits in a NO TRANSACTION file
    for name in ("20240703194656_v0_35_1.sql", "20240712142946_v0_36_0.sql",
                 "20260722000001_batch_id_idx_concurrent_v1_0_134.sql"):
        assert by_name[name]["in_transaction"] is False
        assert not rules[name] & {"MS001", "MS002", "MS004"}, name
    assert not rules["20260713150001_v1_0_127.sql"] & {"MS001", "MS004"}  # CREATE INDEX ON ONLY a parent


def _by_rule(report, name):
    (result,) = [r for r in report.results if Path(r.migration.path).name == name]
    return {(f.rule, f.line): f for f in result.all_findings()}, result


def test_goose_statement_block_is_one_implicit_transaction_in_a_no_transaction_file(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- +goose Up\nCREATE TABLE t (id int primary key, a int);\nCREATE TABLE u (id int primary key);\n",
        "2_b.sql": ("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
                    "ALTER TABLE t ADD CONSTRAINT t_a CHECK (a IS NOT NULL) NOT VALID;\n"
                    "UPDATE t SET a = 0 WHERE a IS NULL;\n"
                    "ALTER TABLE u ADD COLUMN b int;\n"
                    "-- +goose StatementEnd\n"
                    "ALTER TABLE t ADD COLUMN c int;\n"
                    "UPDATE t SET c = 1;\n"
                    "ALTER TABLE u ADD COLUMN d int;\n"),
    })
    found, result = _by_rule(run([str(tmp_path)], Config()), "2_b.sql")
    # The block's ACCESS EXCLUSIVE lock is held through the backfill and the next ALTER.
    assert found[("MS030", 5)].severity == "error"
    assert ("MS031", 6) in found
    assert "until the end of the StatementBegin/StatementEnd block (lines 3-7)" in found[("MS032", 4)].lock
    # After the block goose sends statement by statement again: each commits on its own.
    assert [s.in_transaction for s in result.statements] == [True, True, True, False, False, False]
    assert ("MS030", 9) not in found and ("MS031", 10) not in found
    (later,) = [f for f in result.statements[3].folded if f.rule == "MS032"]
    assert "until the statement ends" in later.lock


def test_goose_statement_block_after_commit_and_in_a_wrapped_file(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- +goose Up\nCREATE TABLE t (id int primary key, a int);\n",
        # A COMMIT in the one query: the statements left run in a new implicit transaction block.
        "2_b.sql": ("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
                    "ALTER TABLE t ADD COLUMN b int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY t_b ON t (b);\n"
                    "SELECT 1;\n-- +goose StatementEnd\n"),
        # One statement in a block is sent alone: no transaction around it.
        "3_c.sql": ("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
                    "CREATE INDEX CONCURRENTLY t_a ON t (a);\n-- +goose StatementEnd\n"),
    })
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    found, _ = _by_rule(report, "2_b.sql")
    refusal = found[("MS004", 6)]
    assert "StatementBegin/StatementEnd block (lines 3-8)" in refusal.message
    assert refusal.fix.startswith("-- give it its own StatementBegin/StatementEnd block, or none (goose")
    assert [rule for rule, _ in found].count("MS004") == 1
    assert ("3_c.sql", "MS004") not in findings_of(report, "error")


def test_sql_migrate_statement_block_in_a_notransaction_file_holds_its_locks(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- +migrate Up\nCREATE TABLE t (id int primary key, a int);\nCREATE TABLE u (id int primary key);\n",
        "2_b.sql": ("-- +migrate Up notransaction\n-- +migrate StatementBegin\n"
                    "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\nALTER TABLE u ADD COLUMN b int;\n"
                    "-- +migrate StatementEnd\nALTER TABLE t ADD COLUMN c int;\nALTER TABLE u ADD COLUMN d int;\n"),
    })
    found, result = _by_rule(run([str(tmp_path)], Config()), "2_b.sql")
    assert result.migration.format == "sql-migrate"
    assert ("MS031", 4) in found and ("MS031", 7) not in found
    assert [s.in_transaction for s in result.statements] == [True, True, False, False]


# fix: a statement split into its own goose migration


def _goose_split(tmp_path, files):
    folder = write(tmp_path / "m", {
        "00001_orders.sql": "-- +goose Up\nCREATE TABLE orders (id int, note text);\n\n-- +goose Down\nDROP TABLE orders;\n",
        "00002_note.sql": ("-- +goose Up\nALTER TABLE orders ADD COLUMN extra int;\n"
                           "CREATE INDEX orders_note_idx ON orders (note);\n\n"
                           "-- +goose Down\nDROP INDEX orders_note_idx;\nALTER TABLE orders DROP COLUMN extra;\n"),
        **files,
    })
    return folder


def test_fix_split_of_a_goose_file_skips_the_versions_of_go_migrations(tmp_path, capsys):
    # goose runs .go migrations in the same version sequence and refuses two files with one version.
    folder = _goose_split(tmp_path, {"00004_backfill.go": "package migrations\n"})
    before = {p.name for p in folder.iterdir()}
    assert main(["fix", "--write", str(folder / "00002_note.sql")]) == 0
    new = sorted({p.name for p in folder.iterdir()} - before)
    assert new == ["00003_note_orders_note_idx_concurrently.sql"]
    capsys.readouterr()
    main(["check", "--format", "json", str(folder)])
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"] if f["rule"] == "MS099"] == []


def test_fix_split_of_a_goose_file_does_not_reuse_the_next_go_migration_version(tmp_path, capsys):
    folder = _goose_split(tmp_path, {"00003_backfill.go": "package migrations\n"})
    before = {p.name for p in folder.iterdir()}
    assert main(["fix", "--write", str(folder / "00002_note.sql")]) == 0
    out = capsys.readouterr()
    assert {p.name for p in folder.iterdir()} == before  # 00003 is the Go migration's
    assert "no free version" in out.out + out.err
    main(["check", "--format", "json", str(folder)])
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"] if f["rule"] == "MS099"] == []


def test_fix_split_of_a_goose_file_moves_the_down_statement_of_the_moved_index(tmp_path, capsys):
    folder = _goose_split(tmp_path, {})
    assert main(["fix", "--write", str(folder / "00002_note.sql")]) == 0
    old = (folder / "00002_note.sql").read_text()
    new = (folder / "00003_note_orders_note_idx_concurrently.sql").read_text()
    # Rolling back 00002 no longer drops the index it no longer creates; 00003's Down does.
    assert old == ("-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN extra int;\n\n"
                   "-- +goose Down\nALTER TABLE orders DROP COLUMN extra;\n")
    up, down = new.split("-- +goose Down\n")
    assert "-- +goose NO TRANSACTION\n" in up and "CREATE INDEX CONCURRENTLY orders_note_idx" in up
    assert down == "DROP INDEX CONCURRENTLY IF EXISTS public.orders_note_idx;\n"
    capsys.readouterr()
    main(["check", "--format", "json", str(folder)])
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"] if f["rule"] == "MS099"] == []
    assert [m["in_transaction"] for m in data["migrations"] if Path(m["path"]).name.startswith("00003")] == [False]


def test_fix_split_of_a_goose_drop_index_moves_its_create_to_the_new_down(tmp_path, capsys):
    folder = write(tmp_path / "m", {
        "00001_orders.sql": ("-- +goose Up\nCREATE TABLE orders (id int, note text);\n"
                             "CREATE INDEX orders_note_idx ON orders (note);\n\n-- +goose Down\nDROP TABLE orders;\n"),
        "00002_drop.sql": ("-- +goose Up\nALTER TABLE orders ADD COLUMN extra int;\nDROP INDEX orders_note_idx;\n\n"
                           "-- +goose Down\nCREATE INDEX orders_note_idx ON orders (note);\n"
                           "ALTER TABLE orders DROP COLUMN extra;\n"),
    })
    assert main(["fix", "--write", str(folder / "00002_drop.sql")]) == 0
    assert (folder / "00002_drop.sql").read_text().endswith("-- +goose Down\nALTER TABLE orders DROP COLUMN extra;\n")
    (new,) = [p for p in folder.iterdir() if p.name.startswith("00003_")]
    up, down = new.read_text().split("-- +goose Down\n")
    assert "DROP INDEX CONCURRENTLY orders_note_idx" in up
    assert down == "CREATE INDEX orders_note_idx ON orders (note);\n"


@pytest.mark.parametrize("layout, up, down, names", [
    ("sql-migrate", "-- +migrate Up", "-- +migrate Down", ("1_orders.sql", "2_note.sql")),
    ("dbmate", "-- migrate:up", "-- migrate:down", ("20240101000000_orders.sql", "20240102000000_note.sql")),
])
def test_fix_split_moves_the_down_statement_of_the_moved_index_in_every_annotated_layout(
        tmp_path, capsys, layout, up, down, names):
    # sql-migrate and dbmate, like goose, roll back the newest migration first by its own down part.
    first, second = names
    files = {first: f"{up}\nCREATE TABLE orders (id int, note text);\n\n{down}\nDROP TABLE orders;\n",
             second: (f"{up}\nALTER TABLE orders ADD COLUMN extra int;\nCREATE INDEX orders_note_idx ON orders (note);\n\n"
                      f"{down}\nDROP INDEX orders_note_idx;\nALTER TABLE orders DROP COLUMN extra;\n")}
    if layout == "dbmate":
        folder = write(tmp_path / "db" / "migrations", files)
    else:
        folder = write(tmp_path / "m", files)
    before = {p.name for p in folder.iterdir()}
    assert main(["fix", "--write", "--source-format", layout, str(folder / second)]) == 0
    capsys.readouterr()
    (new,) = sorted({p.name for p in folder.iterdir()} - before)
    def down_part(text: str) -> str:
        return text.split(down, 1)[1].split("\n", 1)[1]  # after the down line and its options

    old_down, new_down = down_part((folder / second).read_text()), down_part((folder / new).read_text())
    assert "orders_note_idx" not in old_down and "DROP COLUMN extra" in old_down
    assert "DROP INDEX" in new_down and "orders_note_idx" in new_down
    main(["check", "--format", "json", "--source-format", layout, str(folder)])
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"] if f["rule"] == "MS099"] == []
