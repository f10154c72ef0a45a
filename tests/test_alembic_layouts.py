"""Alembic projects no alembic.ini configures: revisions in sub-folders of versions/ (one per database,
picked in env.py), and a folder of revision files named on its own."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources.alembic.layout import find_layout, revision_folder_layout

LAYOUTS = Path(__file__).parent / "layouts"
DIALECTS = LAYOUTS / "alembic-dialects"
SCRIPTS = DIALECTS / "db" / "migrations"
REVISIONS = LAYOUTS / "alembic-revisions-only" / "app" / "db" / "revisions"

REVISION = '''from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}


def upgrade():
    {body}
'''


def revision(rev: str, down: str | None, body: str) -> str:
    return REVISION.format(rev=rev, down=down, body=body)


def findings_of(report, at_least="warning"):
    rank = {"info": 0, "warning": 1, "error": 2}
    return sorted((Path(r.migration.path).name, f.rule) for r in report.results for f in r.all_findings()
                  if rank[f.severity] >= rank[at_least] and not r.migration.meta.get("context"))


def test_per_database_folders_read_the_postgresql_one_and_say_so():
    layout = find_layout(SCRIPTS)
    assert layout.version_locations == ((SCRIPTS / "versions" / "postgresql").resolve(),)
    assert layout.other_locations == ((SCRIPTS / "versions" / "sqlite").resolve(),)
    assert "env.py sets version_locations in code" in layout.locations_reason
    report = run([str(DIALECTS)], Config(lock_timeout="2s"))
    assert [r.migration.version for r in report.results] == ["a1000001", "a1000002", "a1000003"]
    assert all(r.migration.in_transaction for r in report.results)
    assert all("read versions/postgresql, the PostgreSQL one" in r.migration.transaction_reason
               for r in report.results)
    assert findings_of(report) == [("a1000002_orders_customer_index.py", "MS001")]
    skipped = {Path(k).name: v for k, v in report.skipped.items()}
    assert list(skipped) == ["b2000001_create_orders.py"]
    assert "versions/sqlite" in skipped["b2000001_create_orders.py"]


def test_cli_from_the_project_root_names_alembic(capsys):
    code = main(["check", str(DIALECTS), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {m["format"] for m in data["migrations"]} == {"alembic"} and len(data["migrations"]) == 3
    assert [s["path"].endswith("b2000001_create_orders.py") for s in data["skipped"]] == [True]


def test_a_named_revision_for_another_database_is_listed_not_read():
    report = run([str(SCRIPTS / "versions" / "sqlite" / "b2000001_create_orders.py")], Config())
    assert report.results == []
    assert [Path(k).name for k in report.skipped] == ["b2000001_create_orders.py"]
    assert any(f.rule == "MS099" for f in report.findings)  # a run that read nothing never passes


def test_a_named_postgresql_revision_is_checked_after_the_ones_before_it():
    report = run([str(SCRIPTS / "versions" / "postgresql" / "a1000003_widen_note.py")], Config(lock_timeout="2s"))
    checked = [r for r in report.results if not r.migration.meta.get("context")]
    assert [r.migration.version for r in checked] == ["a1000003"]
    assert findings_of(report) == []  # a varchar widening of a table the first revision created


def test_no_postgresql_folder_is_an_input_error(tmp_path):
    scripts = tmp_path / "migrations"
    for dialect in ("sqlite", "mysql"):
        (scripts / "versions" / dialect).mkdir(parents=True)
        (scripts / "versions" / dialect / "r1.py").write_text(revision("r1" + dialect, None, "pass"))
    (scripts / "env.py").write_text("from alembic import context\n")
    code = main(["check", str(tmp_path)])
    assert code == 2
    report = run([str(tmp_path)], Config())
    messages = [f.message for f in report.findings if f.rule == "MS099"]
    assert any("none is for PostgreSQL" in m for m in messages)


def test_folders_env_py_names_are_read_and_the_others_listed(tmp_path):
    scripts = tmp_path / "migrations"
    (scripts / "versions" / "core").mkdir(parents=True)
    (scripts / "versions" / "plugins").mkdir(parents=True)
    (scripts / "env.py").write_text(
        "from alembic import context\n"
        "context.config.set_main_option('version_locations', '%(here)s/versions/core')\n")
    (scripts / "versions" / "core" / "c1.py").write_text(
        revision("c1", None, 'op.create_table("t", sa.Column("a", sa.Integer))'))
    (scripts / "versions" / "plugins" / "p1.py").write_text(
        revision("p1", None, 'op.create_table("u", sa.Column("a", sa.Integer))'))
    report = run([str(tmp_path)], Config())
    assert [r.migration.version for r in report.results] == ["c1"]
    assert [Path(k).name for k in report.skipped] == ["p1.py"]


def test_alembic_ini_without_version_locations_finds_the_sub_folders(tmp_path):
    shutil.copytree(SCRIPTS, tmp_path / "migrations")
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    layout = find_layout(tmp_path)
    assert layout.ini is not None and layout.version_locations == (
        (tmp_path / "migrations" / "versions" / "postgresql").resolve(),)
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nversion_locations = %(here)s/migrations/versions/sqlite\n")
    assert find_layout(tmp_path).version_locations is None  # the configuration decides
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\nrecursive_version_locations = true\n")
    assert find_layout(tmp_path).version_locations is None
    (tmp_path / "alembic.ini").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "migrations"\n'
                                            'recursive_version_locations = true\n')
    assert find_layout(tmp_path).pyproject is not None and find_layout(tmp_path).version_locations is None


def test_a_folder_of_revisions_named_on_its_own_is_read():
    assert find_layout(REVISIONS) is None
    assert revision_folder_layout(REVISIONS) is not None
    report = run([str(REVISIONS)], Config(lock_timeout="2s"))
    assert [r.migration.version for r in report.results] == ["c3000001", "c3000002", "c3000003"]
    assert findings_of(report) == [("c3000002_orders_customer_index.py", "MS001")]
    assert "named on its own" in report.results[0].migration.transaction_reason


def test_a_revision_named_on_its_own_is_checked_with_its_folder_as_context():
    report = run([str(REVISIONS / "c3000002_orders_customer_index.py")], Config(lock_timeout="2s"))
    checked = [r for r in report.results if not r.migration.meta.get("context")]
    assert [r.migration.version for r in checked] == ["c3000002"]
    assert findings_of(report) == [("c3000002_orders_customer_index.py", "MS001")]


def test_python_files_that_are_not_revisions_are_not_taken_for_them(tmp_path):
    (tmp_path / "helpers.py").write_text("revision_count = 3\n\ndef down_revision_of(x):\n    return x\n")
    assert revision_folder_layout(tmp_path) is None
    assert main(["check", str(tmp_path / "helpers.py")]) == 2
