"""Backward parts as the readers expose them (History.reverse, Alembic's meta["downgrade"]): the
Down parts of goose, sql-migrate and dbmate files, with the file's own lines and each tool's
transaction rule, and an Alembic downgrade() rendered offline."""
from pathlib import Path

from migrasafe.config import Config
from migrasafe.sources import dbmate, goose, sql_migrate
from migrasafe.sources.build import build_migration
from migrasafe.sources.plan import Plan

SAMPLES = Path(__file__).parent / "verify_samples"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


def backward(fmt, root: Path, name: str):
    history = fmt.list_history(root)
    entry = next(e for e in history.reverse if e.file.name == name)
    assert entry.kind == "undo" and entry.options["part"] == "down"
    return build_migration(entry, fmt.FORMAT, "", Config())


def test_goose_down_part_keeps_its_lines_blocks_and_no_transaction(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
                   "-- +goose Down\n-- +goose StatementBegin\nDROP INDEX CONCURRENTLY i;\n-- +goose StatementEnd\n",
        "2_b.sql": "-- +goose Up\nCREATE TABLE u (a int);\n",
    })
    history = goose.list_history(tmp_path)
    assert [e.file.name for e in history.reverse] == ["1_a.sql"]  # 2_b.sql has no Down part
    down = backward(goose, tmp_path, "1_a.sql")
    assert [(s.sql, s.line) for s in down.statements] == [("DROP INDEX CONCURRENTLY i", 6)]
    assert down.in_transaction is False and "NO TRANSACTION" in down.transaction_reason
    up = build_migration(history.forward[0], goose.FORMAT, "", Config())
    assert [s.sql for s in up.statements] == ["CREATE INDEX CONCURRENTLY i ON t (a)"]


def test_sql_migrate_down_has_its_own_notransaction(tmp_path):
    write(tmp_path, {"1_a.sql": "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
                                "-- +migrate Down\nDROP INDEX i;\nDROP TABLE t;\n"})
    down = backward(sql_migrate, tmp_path, "1_a.sql")
    assert [(s.sql, s.line) for s in down.statements] == [("DROP INDEX i", 4), ("DROP TABLE t", 5)]
    assert down.in_transaction is True
    write(tmp_path, {"1_a.sql": "-- +migrate Up\nSELECT 1;\n-- +migrate Down notransaction\nDROP INDEX CONCURRENTLY i;\n"})
    down = backward(sql_migrate, tmp_path, "1_a.sql")
    assert down.in_transaction is False and "Down notransaction' (line 3)" in down.transaction_reason


def test_dbmate_down_section_and_its_transaction_option(tmp_path):
    write(tmp_path, {
        "1_a.sql": "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down transaction:false\nDROP TABLE t;\n",
        "2_b.sql": "-- migrate:up\nSELECT 1;\n",
    })
    assert [e.file.name for e in dbmate.list_history(tmp_path).reverse] == ["1_a.sql"]
    down = backward(dbmate, tmp_path, "1_a.sql")
    assert [(s.sql, s.line) for s in down.statements] == [("DROP TABLE t", 4)]
    assert down.in_transaction is False and "migrate:down transaction:false" in down.transaction_reason


def test_alembic_downgrade_is_rendered_on_the_lines_that_wrote_it():
    plan = Plan(Config(cache=False), backward=True)
    plan.add(str(SAMPLES / "alembic"))
    by_revision = {m.version: m for m in plan.migrations()}
    assert plan.findings == []
    down = by_revision["2b"].meta["downgrade"]
    assert down.kind == "undo" and down.path == by_revision["2b"].path
    assert [(s.sql, s.line) for s in down.statements] == [
        ("ALTER TABLE t ALTER COLUMN note TYPE VARCHAR(100)", 18)]
    assert [s.sql for s in by_revision["1a"].meta["downgrade"].statements] == ["DROP TABLE t"]
    assert by_revision["3c"].meta["downgrade"].statements == []  # downgrade() is `pass`
    concurrently = [s.sql for s in by_revision["4d"].meta["downgrade"].statements]
    assert "DROP INDEX CONCURRENTLY t_note_idx" in concurrently and "COMMIT" in concurrently
    # A plain reading renders no downgrade().
    plain = Plan(Config(cache=False))
    plain.add(str(SAMPLES / "alembic"))
    assert all("downgrade" not in m.meta for m in plain.migrations())


def test_atlas_reads_a_backward_part_with_the_tool_it_wrote_the_folder_for(tmp_path):
    from migrasafe.sources import atlas

    (tmp_path / "atlas.hcl").write_text('env "dev" {\n  migration {\n    dir = "file://m"\n    format = goose\n  }\n}\n')
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1_a.sql").write_text("-- +goose Up\nCREATE TABLE t (a int);\n-- +goose Down\nDROP TABLE t;\n")
    history = atlas.list_history(tmp_path)
    (entry,) = history.reverse
    assert entry.options["atlas_format"] == "goose" and entry.options["part"] == "down"
    down = build_migration(entry, atlas.FORMAT, "", Config())
    assert [(s.sql, s.line) for s in down.statements] == [("DROP TABLE t", 4)]
