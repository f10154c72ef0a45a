"""What the report says matches what happened: the reasons a file is not read name the tool and
group alike files, and a folded lock_timeout finding repeats the first one's reason, not "missing"."""
from __future__ import annotations

from migrasafe.api import check
from migrasafe.report.reading import reading_lines
from migrasafe.sources.popx import SHADOWED

TABLE = "CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE TABLE u (id int PRIMARY KEY, a int);\n"


def test_popx_files_shadowed_by_their_postgres_variant_are_one_reason(tmp_path):
    for version in ("20240101000000000000", "20240102000000000000", "20240103000000000000"):
        for direction in ("up", "down"):
            (tmp_path / f"{version}_m.{direction}.sql").write_text("SELECT 1;\n")
            (tmp_path / f"{version}_m.postgres.{direction}.sql").write_text("SELECT 2;\n")
    report = check([str(tmp_path)])
    shadowed = [path for path, reason in report.skipped.items() if reason == SHADOWED]
    assert len(shadowed) == 6 and all(".postgres." not in p for p in shadowed)
    line = next(line for line in reading_lines(report) if line.startswith("not read"))
    assert f"{SHADOWED} (6)" in line and "other reasons" not in line


def test_a_file_the_layout_does_not_run_names_the_tool(tmp_path):
    folder = tmp_path / "2024-01-01-000000_base"
    folder.mkdir()
    (folder / "up.sql").write_text(TABLE)
    (folder / "down.sql").write_text("DROP TABLE t;\n")
    (folder / "seed.sql").write_text("INSERT INTO t VALUES (1, 1);\n")
    report = check([str(tmp_path)])
    reasons = {path.rsplit("/", 1)[-1]: reason for path, reason in report.skipped.items()}
    assert reasons.get("seed.sql") == "not a migration in this layout: diesel does not run it"


def test_folded_lock_timeout_finding_does_not_call_a_long_timeout_missing(tmp_path):
    (tmp_path / "1_base.sql").write_text(TABLE)
    (tmp_path / "2_change.sql").write_text(
        "BEGIN;\nSET lock_timeout = '2min';\nALTER TABLE t ADD COLUMN b int;\nALTER TABLE u ADD COLUMN b int;\nCOMMIT;\n")
    report = check([str(tmp_path)])
    found = [f for r in report.results for s in r.statements for f in s.findings if f.rule == "MS032"]
    assert len(found) == 1
    message = found[0].message
    assert "lock_timeout 2min" in message and "longer than" in message
    assert "without" not in message and "1 later statement of this migration locks live tables the same way" in message
