"""Alembic projects written for one behaviour each: layouts, bad revisions, code that needs a
database, settings that env.py applies to every revision."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config, ConfigError, load_config
from migrasafe.sources import read_migrations

ENV_PY = "from alembic import context\nraise RuntimeError('env.py ran')\n"
BASE = '''
revision = "0001"
down_revision = None

def upgrade():
    op.create_table("accounts", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("name", sa.Text))
    op.execute("INSERT INTO accounts VALUES (1, 'a')")
'''


def revision(body: str, rev: str, down: str | None = "0001", header: str = "") -> str:
    down_text = repr(down)
    return (f"from alembic import op\nimport sqlalchemy as sa\n{header}\n"
            f"revision = {rev!r}\ndown_revision = {down_text}\n\n\ndef upgrade():\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n")


def project(root: Path, revisions: dict[str, str], env: str = ENV_PY, ini: str | None = None,
            location: str = "migrations") -> Path:
    """An Alembic project under root: alembic.ini (unless ini is "") naming `location`."""
    scripts = root / location
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(env)
    if ini is None:
        ini = f"[alembic]\nscript_location = {location}\n"
    if ini:
        (root / "alembic.ini").write_text(ini)
    (scripts / "versions" / "0001_base.py").write_text("from alembic import op\nimport sqlalchemy as sa\n" + BASE)
    for name, text in revisions.items():
        (scripts / "versions" / name).write_text(text)
    return root


def by_version(report):
    return {r.migration.version: r for r in report.results}


def rules(result) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line) for f in result.all_findings())


def test_flask_migrate_layout(tmp_path):
    root = tmp_path / "app"
    project(root, {"0002_x.py": revision('op.add_column("accounts", sa.Column("x", sa.Text))', "0002")}, ini="")
    (root / "migrations" / "alembic.ini").write_text("[alembic]\n\n[loggers]\nkeys = root\n")
    migrations, findings = read_migrations([str(root)], Config())
    assert findings == []
    assert [(m.version, m.format) for m in migrations] == [("0001", "alembic"), ("0002", "alembic")]
    assert migrations[1].path == str(root / "migrations" / "versions" / "0002_x.py")


def test_a_revision_that_does_not_parse_is_reported_and_the_rest_checked(tmp_path, capsys):
    broken = revision('op.add_column("accounts", sa.Column("x", sa.Text)', "0002")  # missing ")"
    after = revision('op.create_index("ix", "accounts", ["name"])', "0003", down="0002")
    root = project(tmp_path, {"0002_broken.py": broken, "0003_index.py": after})
    assert main(["check", str(root)]) == 2
    out = capsys.readouterr().out
    assert "0002_broken.py:9:" in out and "MS099 input-error" in out and "cannot load the revision" in out
    assert "0003_index.py:9:5: MS001" in out
    assert "Traceback" not in out


def test_a_revision_that_raises_on_import_is_reported(tmp_path):
    failing = revision("pass", "0002", header="import os\nKEY = os.environ['MIGRASAFE_TEST_NOT_SET']")
    root = project(tmp_path, {"0002_env.py": failing})
    report = run([str(root)], Config())
    result = by_version(report)["0002"]
    assert result.migration.broken
    (finding,) = result.all_findings()
    assert (finding.rule, finding.line) == ("MS099", 4) and "KeyError" in finding.message


def test_a_missing_down_revision_is_an_input_error_not_a_crash(tmp_path, capsys):
    root = project(tmp_path, {"0002_orphan.py": revision("pass", "0002", down="0099")})
    assert main(["check", str(root)]) == 2
    out = capsys.readouterr().out
    assert "0002_orphan.py:5:1: MS099 input-error" in out and "Revision 0099 referenced from" in out
    assert "Traceback" not in out


def test_schema_inspection_stops_rendering_with_a_note(tmp_path):
    body = '''
    op.add_column("accounts", sa.Column("email", sa.Text))
    columns = sa.inspect(op.get_bind()).get_columns("accounts")
    op.drop_column("accounts", "name")
    '''
    root = project(tmp_path, {"0002_inspect.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    assert [a.statement.sql for a in result.statements] == ["ALTER TABLE accounts ADD COLUMN email TEXT"]
    (note,) = result.findings
    assert (note.rule, note.line, note.severity) == ("MS096", 10, "info")
    assert "inspects the live database's schema" in note.message
    # Like any rule's finding, the note can be ignored or made to fail the check.
    assert by_version(run([str(root)], Config(ignore=["alembic-not-rendered"])))["0002"].findings == []
    (strict,) = by_version(run([str(root)], Config(severity={"MS096": "error"})))["0002"].findings
    assert strict.severity == "error"


def test_commit_then_autocommit_block_runs_the_index_outside_a_transaction(tmp_path):
    body = '''
    op.get_bind().commit()
    with op.get_context().autocommit_block():
        op.create_index("accounts_name_idx", "accounts", ["name"], postgresql_concurrently=True)
    '''
    root = project(tmp_path, {"0002_concurrently.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    index = next(a for a in result.statements if "CONCURRENTLY" in a.statement.sql)
    assert index.in_transaction is False and index.statement.line == 11
    assert result.all_findings() == []


def test_concurrent_index_inside_the_transaction_is_refused(tmp_path):
    body = 'op.create_index("accounts_name_idx", "accounts", ["name"], postgresql_concurrently=True)'
    root = project(tmp_path, {"0002_concurrently.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    (refused,) = [f for f in result.all_findings() if f.rule == "MS004"]
    assert refused.line == 9 and "autocommit_block" in refused.fix


def test_preamble_declares_what_env_py_sets_on_the_connection(tmp_path):
    body = 'op.add_column("accounts", sa.Column("email", sa.Text))'
    root = project(tmp_path, {"0002_email.py": revision(body, "0002")})
    assert ("MS032", 9) in rules(by_version(run([str(root)], Config()))["0002"])
    quiet = Config(alembic={"preamble": ["SET lock_timeout = '2s'"]})
    assert rules(by_version(run([str(root)], quiet))["0002"]) == []


def test_a_timeout_set_by_one_revision_holds_for_the_next_ones(tmp_path):
    first = revision("op.execute(\"SET lock_timeout = '5s'\")", "0002")
    second = revision('op.add_column("accounts", sa.Column("email", sa.Text))', "0003", down="0002")
    root = project(tmp_path, {"0002_timeout.py": first, "0003_email.py": second})
    # Upgraded together (the database is at 0001), the session's setting holds for 0003 ...
    assert rules(by_version(run([str(root)], Config(alembic={"from": "0001"})))["0003"]) == []
    # ... but over a whole history each revision is its own upgrade, on a new connection.
    assert ("MS032", 9) in rules(by_version(run([str(root)], Config()))["0003"])
    # Checked alone, the revision that set it was applied in an earlier run: no longer in effect.
    alone = run([str(root / "migrations" / "versions" / "0003_email.py")], Config())
    assert ("MS032", 9) in rules(by_version(alone)["0003"])


def test_a_missing_application_type_renders_under_its_name(tmp_path):
    body = '''
    op.create_table("sessions", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("seen_at", TZDateTime()))
    op.create_index("sessions_seen_at_idx", "sessions", ["seen_at"])
    op.add_column("accounts", sa.Column("email", sa.Text))
    '''
    header = "from shopfront_not_installed.types import TZDateTime"
    root = project(tmp_path, {"0002_types.py": revision(body, "0002", header=header)})
    result = by_version(run([str(root)], Config(alembic={"preamble": "SET lock_timeout = '2s'"})))["0002"]
    assert "seen_at TZDateTime" in result.statements[0].statement.sql
    # The table is known to be new, so its index is not reported.
    assert [f.rule for f in result.all_findings()] == ["MS096"]
    (note,) = result.findings
    assert note.line == 9 and "column type TZDateTime comes from shopfront_not_installed" in note.message
    assert "sys_path" in note.fix
    assert "shopfront_not_installed" not in __import__("sys").modules


def test_an_operation_on_a_missing_name_is_skipped(tmp_path):
    body = '''
    op.drop_table(models.LEGACY_TABLE)
    op.add_column("accounts", sa.Column("email", sa.Text))
    '''
    root = project(tmp_path, {"0002_names.py": revision(body, "0002", header="from old_app_gone import models")})
    result = by_version(run([str(root)], Config()))["0002"]
    assert [a.statement.line for a in result.statements] == [10]
    note = next(f for f in result.findings if f.rule == "MS096")
    assert note.line == 9
    assert note.message == ("op.drop_table() could not be rendered (old_app_gone.models.LEGACY_TABLE comes from "
                            "old_app_gone, which is not installed here); it is not checked")


def test_a_stand_in_used_as_text_stops_the_rendering(tmp_path):
    body = '''
    op.execute(f"UPDATE accounts SET name = '{settings.DEFAULT_NAME}'")
    op.drop_column("accounts", "name")
    '''
    root = project(tmp_path, {"0002_settings.py": revision(body, "0002", header="from missing_app import settings")})
    result = by_version(run([str(root)], Config()))["0002"]
    assert result.statements == []
    (note,) = result.findings
    assert note.line == 9 and "missing_app.settings.DEFAULT_NAME comes from missing_app" in note.message


def test_rows_from_the_bind_are_none_and_statements_it_runs_are_checked(tmp_path):
    body = '''
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE accounts SET name = :name"), {"name": "x"})
    for row in conn.execute(sa.text("SELECT id FROM accounts")).fetchall():
        op.execute(f"UPDATE accounts SET name = 'y' WHERE id = {row.id}")
    '''
    root = project(tmp_path, {"0002_rows.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    assert [(a.statement.line, a.statement.sql) for a in result.statements] == [
        (10, "UPDATE accounts SET name = 'x'"), (11, "SELECT id FROM accounts"),
    ]
    assert [(f.rule, f.line) for f in result.findings] == [("MS096", 11)]


def test_a_revision_without_upgrade_is_reported(tmp_path):
    text = 'revision = "0002"\ndown_revision = "0001"\n'
    root = project(tmp_path, {"0002_empty.py": text})
    (note,) = by_version(run([str(root)], Config()))["0002"].findings
    assert note.rule == "MS096" and "no upgrade() function" in note.message


def test_excluded_revisions_build_the_schema_but_are_not_reported(tmp_path):
    root = project(tmp_path, {"0002_x.py": revision('op.create_index("ix", "accounts", ["name"])', "0002")})
    config = Config(exclude=["migrations/versions/0002_*"], root=tmp_path)
    report = run([str(root)], config)
    assert [(r.migration.version, r.migration.meta["context"]) for r in report.results] == [
        ("0001", False), ("0002", True),
    ]


def test_project_settings_are_validated(tmp_path):
    config = tmp_path / "migrasafe.toml"
    config.write_text("[alembic]\npreamble = 5\n")
    with pytest.raises(ConfigError, match="alembic.preamble"):
        load_config(config)
    config.write_text("[alembic]\nsys_paths = ['src']\n")
    with pytest.raises(ConfigError, match="alembic.sys_paths"):
        load_config(config)
    config.write_text("[alembic]\nsys_path = ['src']\ntransaction_per_migration = true\n")
    assert load_config(config).alembic == {"sys_path": ["src"], "transaction_per_migration": True}


def test_sys_path_setting_names_the_import_roots(tmp_path):
    (tmp_path / "src" / "billing_app_for_tests").mkdir(parents=True)
    (tmp_path / "src" / "billing_app_for_tests" / "__init__.py").write_text("TABLE = 'invoices'\n")
    body = 'op.create_table(TABLE, sa.Column("id", sa.BigInteger, primary_key=True))'
    header = "from billing_app_for_tests import TABLE"
    root = project(tmp_path / "proj", {"0002_app.py": revision(body, "0002", header=header)})
    default = by_version(run([str(root)], Config()))["0002"]
    assert default.statements == [] and "billing_app_for_tests" in default.findings[0].message
    configured = by_version(run([str(root)], Config(alembic={"sys_path": ["src"]}, root=tmp_path)))["0002"]
    assert [a.statement.sql.split(" (")[0] for a in configured.statements] == ["CREATE TABLE invoices"]


def test_suppression_comments_in_python(tmp_path):
    body = '''
    # migrasafe: ignore MS001
    op.create_index("a_idx", "accounts", ["name"])
    op.create_index("b_idx", "accounts", ["id"])  # migrasafe: ignore MS001 -- accounts has 12 rows
    op.execute("-- migrasafe: ignore MS032 -- inside a string, not a comment")
    # migrasafe: ignore MS024 -- nothing here sets NOT NULL
    op.add_column("accounts", sa.Column("email", sa.Text))
    '''
    root = project(tmp_path, {"0002_x.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    found = sorted((f.rule, f.line, f.message) for f in result.all_findings())
    assert [(rule, line) for rule, line, _ in found] == [
        ("MS001", 10), ("MS032", 10), ("MS032", 14), ("MS092", 13), ("MS093", 9),
    ]
    # MS032 is reported once per migration and lock strength: the index that follows folds into
    # the first; the AccessExclusiveLock request of add_column is reported on its own (a warning).
    first, access_exclusive = [(line, m) for rule, line, m in found if rule == "MS032"]
    assert "1 later statement" in first[1] and access_exclusive[1].startswith("AccessExclusiveLock")
    assert "`# migrasafe: ignore MS001` has no reason" in found[-1][2]


def test_file_wide_suppression_in_python(tmp_path):
    body = 'op.create_index("a_idx", "accounts", ["name"])'
    header = "# migrasafe: ignore-file MS001,MS032 -- built during the maintenance window"
    root = project(tmp_path, {"0002_x.py": revision(body, "0002", header=header)})
    assert by_version(run([str(root)], Config()))["0002"].all_findings() == []


def test_a_revision_that_exits_does_not_stop_the_run(tmp_path):
    body = '''
    op.add_column("accounts", sa.Column("email", sa.Text))
    raise SystemExit("run this one by hand")
    '''
    root = project(tmp_path, {"0002_exit.py": revision(body, "0002")})
    result = by_version(run([str(root)], Config()))["0002"]
    # Alembic's own run would end there: an input error at the line, and what came before it is checked.
    assert len(result.statements) == 1
    assert [(f.rule, f.line) for f in result.findings] == [("MS099", 10)]
    assert "sys.exit('run this one by hand')" in result.findings[0].message
    assert result.migration.broken


def test_checking_sql_migrations_does_not_load_alembic(tmp_path):
    import subprocess
    import sys

    (tmp_path / "V1__t.sql").write_text("CREATE TABLE t (id int);\n")
    code = (
        "import sys\n"
        "from migrasafe.check import run\n"
        "from migrasafe.config import Config\n"
        f"run([{str(tmp_path)!r}], Config())\n"
        "print([m for m in ('alembic', 'sqlalchemy') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_an_alembic_ini_alembic_cannot_read_is_an_input_error(tmp_path, capsys):
    ini = "[alembic]\nscript_location = migrations\nversion_locations = %(missing)s/versions\n"
    root = project(tmp_path, {}, ini=ini)
    assert main(["check", str(root)]) == 2
    out = capsys.readouterr().out
    assert "MS099" in out and "alembic.ini" in out and "missing" in out


def test_script_location_from_pyproject_tool_alembic(tmp_path):
    project(tmp_path, {"0002_x.py": revision('op.add_column("accounts", sa.Column("x", sa.Text))', "0002")},
            ini="", location="db")
    (tmp_path / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "%(here)s/db"\n')
    migrations, findings = read_migrations([str(tmp_path)], Config())
    assert findings == [] and [m.version for m in migrations] == ["0001", "0002"]
    assert migrations[1].path == str(tmp_path / "db" / "versions" / "0002_x.py")


def test_a_revision_file_finds_its_project_through_alembic_ini(tmp_path):
    root = project(tmp_path, {"0002_x.py": revision('op.create_index("ix", "accounts", ["name"])', "0002")},
                   location="src/db")
    file = root / "src" / "db" / "versions" / "0002_x.py"
    migrations, findings = read_migrations([str(file), str(root)], Config())
    assert findings == []
    assert [(m.version, m.meta["context"]) for m in migrations] == [("0001", False), ("0002", False)]


def test_an_installed_application_missing_a_dependency_is_an_input_error(tmp_path):
    (tmp_path / "halfapp_for_tests").mkdir()
    (tmp_path / "halfapp_for_tests" / "__init__.py").write_text("import dependency_nobody_installed\n")
    header = "from halfapp_for_tests import models"
    root = project(tmp_path, {"0002_app.py": revision("pass", "0002", header=header)})
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\nprepend_sys_path = .\n")
    result = by_version(run([str(root)], Config()))["0002"]
    (finding,) = result.all_findings()
    assert (finding.rule, finding.line) == ("MS099", 3) and result.migration.broken
    assert "No module named 'dependency_nobody_installed'" in finding.message
