"""History integrity (migrasafe/history, MS050-MS057): what stops a deploy before any SQL runs.

Fixture folders in tests/history_integrity/ hold the histories that need no git; the `--since`
cases build a small repository here: a base branch, then the change in the working tree.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from migrasafe import cli

FIXTURES = Path(__file__).parent / "history_integrity"
HISTORY = "MS050,MS051,MS052,MS053,MS054,MS055,MS056,MS057,MS092"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def check(capsys, *argv) -> tuple[int, dict]:
    code = cli.main(["check", "--format", "json", "--no-cache", *argv])
    return code, json.loads(capsys.readouterr().out)


def found(data: dict) -> list[tuple[str, str, int, str]]:
    """(rule, path, line, severity) of every finding, run-level ones first."""
    out = [(f["rule"], f["path"], f["line"], f["severity"]) for f in data["findings"]]
    for migration in data["migrations"]:
        out += [(f["rule"], migration["path"], f["line"], f["severity"]) for f in migration["findings"]]
    return out


def only(data: dict, rule: str) -> list[tuple[str, str, int, str]]:
    return [f for f in found(data) if f[0] == rule]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
    ).stdout


def repository(root: Path, files: dict[str, str]) -> Path:
    """A repository whose branch `main` holds `files`; the working tree is then the change's."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "change")
    return root


@pytest.fixture(autouse=True)
def no_ci_base(monkeypatch):
    for name in ("GITHUB_EVENT_PATH", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)


# Flyway: one version, two files (MS050)


def test_flyway_versions_equal_by_number_are_duplicates_and_suppressions_apply(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "flyway_duplicates", "--select", HISTORY)
    # V1, V01 and V1.0 are one version (V1.0 says ignore-file MS050); 2.1 is not 2, and the
    # ignore written for it in V2_1 silenced nothing.
    assert found(data) == [("MS050", "flyway_duplicates/V01__refunds.sql", 1, "error"),
                           ("MS092", "flyway_duplicates/V2_1__carts.sql", 1, "info")]
    assert code == 1
    migrations = {m["path"]: m for m in data["migrations"]}
    assert migrations["flyway_duplicates/V1.0__invoices.sql"]["suppressed"] == [
        {"rule": "MS050", "severity": "error", "line": 1, "by": "migrasafe"}]
    finding = migrations["flyway_duplicates/V01__refunds.sql"]["findings"][0]
    assert '"Found more than one migration with version 1"' in finding["message"]
    assert finding["fix"] == "give V01__refunds.sql the next free version: rename it to V2_2__refunds.sql"


def test_ignore_and_select_leave_the_duplicate_out(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "flyway_duplicates", "--ignore", "duplicate-migration-version")
    assert only(data, "MS050") == [] and code == 0
    code, data = check(capsys, "flyway_duplicates", "--select", "MS001")
    assert found(data) == [] and code == 0


def test_a_duplicate_in_sarif_has_its_rule_file_and_line(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    assert cli.main(["check", "flyway_duplicates", "--format", "sarif", "--no-cache", "--select", "MS050"]) == 1
    run = json.loads(capsys.readouterr().out)["runs"][0]
    (result,) = run["results"]
    location = result["locations"][0]["physicalLocation"]
    assert (result["ruleId"], result["level"]) == ("MS050", "error")
    assert location["artifactLocation"]["uri"] == "flyway_duplicates/V01__refunds.sql"
    assert location["region"]["startLine"] == 1
    assert "MS050" in {rule["id"] for rule in run["tool"]["driver"]["rules"]}


@pytest.mark.parametrize("fmt, needle", [
    ("text", "flyway_duplicates/V01__refunds.sql:1:1: MS050 duplicate-migration-version [error]"),
    ("github", "::error file=flyway_duplicates/V01__refunds.sql,line=1,"),
    ("gitlab", '"path": "flyway_duplicates/V01__refunds.sql"'),
    ("junit", 'MS050'),
    ("markdown", "MS050"),
])
def test_every_output_format_shows_the_finding(capsys, monkeypatch, fmt, needle):
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(FIXTURES))
    assert cli.main(["check", "flyway_duplicates", "--format", fmt, "--no-cache", "--select", "MS050"]) == 1
    out = capsys.readouterr().out
    assert needle in out and "V1__orders.sql:1:1: MS050" not in out


# Drizzle and sqitch: what the journal or plan lists against the files (MS056, MS057)


def test_drizzle_journal_entry_without_file_and_file_without_entry(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "drizzle_orphans", "--select", HISTORY)
    assert found(data) == [("MS056", "drizzle_orphans/meta/_journal.json", 16, "error"),
                           ("MS057", "drizzle_orphans/0002_hand_written.sql", 1, "warning")]
    assert [m["path"] for m in data["migrations"]] == ["drizzle_orphans/0000_init.sql"]
    assert code == 1


def test_sqitch_plan_line_without_deploy_script(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "sqitch_missing", "--select", HISTORY)
    assert found(data) == [("MS056", "sqitch_missing/sqitch.plan", 5, "error")]
    assert "sqitch add order_status" in data["findings"][0]["fix"]
    assert [m["version"] for m in data["migrations"]] == ["orders"] and code == 1


# Alembic and Django graphs (MS053, MS055)


def test_alembic_heads_of_one_branch_label_and_not_of_another(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "alembic_heads", "--select", HISTORY)
    # c3 and d4 both carry b2's label "orders"; e5 is the head of its own "reports" branch.
    assert found(data) == [("MS053", "alembic_heads/migrations/versions/d4_note.py", 5, "error")]
    (finding,) = [f for m in data["migrations"] for f in m["findings"]]
    assert "c3 (c3_status.py) and d4 (d4_note.py)" in finding["message"] and "e5" not in finding["message"]
    assert finding["fix"] == 'merge them: alembic merge -m "merge heads" c3 d4'
    assert code == 1


def _django_read_from_files(layout, config, display_root, named=None, use_cache=True, **_):
    """The Django reader without rendering (tests/test_sources_django.py renders on a server)."""
    from migrasafe.model import Migration
    from migrasafe.sources.django.read import Reading

    migrations = []
    for file in layout.migration_files():
        app = file.parent.parent.name
        migrations.append(Migration(
            path=str(Path(display_root) / file.relative_to(layout.root)), format="django",
            version=f"{app}.{file.stem}", description=file.stem,
            meta={"app": app, "name": file.stem, "file": str(file.resolve()), "context": False,
                  "history": f"django:{layout.key}"}))
    return Reading(migrations, [], {}, False)


def test_django_app_with_two_leaves_and_one_whose_squash_stands_in(capsys, monkeypatch):
    monkeypatch.setattr("migrasafe.sources.django.read.read_project", _django_read_from_files)
    monkeypatch.setattr("migrasafe.sources.django.read.required_packages_missing", lambda: [])
    monkeypatch.chdir(FIXTURES)
    code, data = check(capsys, "django_leaves", "--select", HISTORY)
    # billing's 0002 is replaced by the squash 0003 builds on: one leaf there.
    assert found(data) == [("MS055", "django_leaves/shop/migrations/0002_order_status.py", 4, "error")]
    (finding,) = [f for m in data["migrations"] for f in m["findings"]]
    assert finding["fix"] == "python manage.py makemigrations --merge shop"
    assert "(0002_order_note, 0002_order_status in shop)" in finding["message"]
    assert code == 1


# Against the base branch (--since): out of order (MS051), edited after it shipped (MS052)


FLYWAY_BASE = {
    "db/V1__orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
    "db/V2__customers.sql": "-- customers\nCREATE TABLE customers (id bigint PRIMARY KEY);\n",
    "db/V3__carts.sql": "CREATE TABLE carts (id bigint PRIMARY KEY);\n",
}


def test_flyway_new_lower_version_and_edits_of_shipped_scripts(tmp_path, capsys, monkeypatch):
    repo = repository(tmp_path, FLYWAY_BASE)
    monkeypatch.chdir(repo)
    (repo / "db/V2_5__invoices.sql").write_text("CREATE TABLE invoices (id bigint PRIMARY KEY);\n")
    (repo / "db/V4__refunds.sql").write_text("CREATE TABLE refunds (id bigint PRIMARY KEY);\n")  # after V3: fine
    (repo / "db/V1__orders.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n")
    (repo / "db/V2__customers.sql").write_text("-- customers, with a typo fixed\nCREATE TABLE customers (id bigint PRIMARY KEY);\n")
    (repo / "db/V3__carts.sql").write_text(FLYWAY_BASE["db/V3__carts.sql"].replace("\n", "\r\n"))  # Flyway ignores
    code, data = check(capsys, "db", "--since", "main", "--select", HISTORY)
    assert sorted(found(data)) == [("MS051", "db/V2_5__invoices.sql", 1, "error"),
                                   ("MS052", "db/V1__orders.sql", 1, "error"),
                                   ("MS052", "db/V2__customers.sql", 1, "error")]
    assert code == 1
    by_path = {m["path"]: m["findings"] for m in data["migrations"]}
    assert '"Detected resolved migration not applied to database: 2.5"' in by_path["db/V2_5__invoices.sql"][0]["message"]
    # Renumbered past every migration, V4 (new too) included.
    assert "rename V2_5__invoices.sql to V5__invoices.sql" in by_path["db/V2_5__invoices.sql"][0]["fix"]
    assert "comments or whitespace only" in by_path["db/V2__customers.sql"][0]["message"]
    assert "flyway repair" in by_path["db/V2__customers.sql"][0]["fix"]


def test_flyway_out_of_order_allowed_in_flyway_conf_is_info(tmp_path, capsys, monkeypatch):
    repo = repository(tmp_path, {**FLYWAY_BASE, "flyway.conf": "flyway.outOfOrder=true\n"})
    monkeypatch.chdir(repo)
    (repo / "db/V2_5__invoices.sql").write_text("CREATE TABLE invoices (id bigint PRIMARY KEY);\n")
    code, data = check(capsys, "db", "--since", "main", "--select", HISTORY)
    assert found(data) == [("MS051", "db/V2_5__invoices.sql", 1, "info")]
    assert "outOfOrder=true (flyway.conf)" in data["migrations"][0]["findings"][0]["message"]
    assert code == 0


def test_golang_migrate_edits_and_a_lower_new_version(tmp_path, capsys, monkeypatch):
    base = {f"m/0000{n}_{name}.{d}.sql": f"-- {name}\nCREATE TABLE {name} (id int);\n" if d == "up" else f"DROP TABLE {name};\n"
            for n, name in ((10, "orders"), (20, "customers"), (30, "carts")) for d in ("up", "down")}
    repo = repository(tmp_path, base)
    monkeypatch.chdir(repo)
    (repo / "m/000010_orders.up.sql").write_text("-- orders\n\nCREATE TABLE orders (id bigint);\n")
    (repo / "m/000020_customers.up.sql").write_text("-- customers, explained\nCREATE TABLE customers (id int);\n")
    (repo / "m/000030_carts.down.sql").write_text("DROP TABLE IF EXISTS carts;\n")  # never runs forward
    (repo / "m/000015_invoices.up.sql").write_text("CREATE TABLE invoices (id int);\n")
    (repo / "m/000015_invoices.down.sql").write_text("DROP TABLE invoices;\n")
    (repo / "m/000040_refunds.up.sql").write_text("CREATE TABLE refunds (id int);\n")  # after 30: fine
    code, data = check(capsys, "m", "--since", "main", "--select", HISTORY)
    # No checksum: a real edit is a warning on its first changed line, a comment edit an info.
    assert sorted(found(data)) == [("MS051", "m/000015_invoices.up.sql", 1, "error"),
                                   ("MS052", "m/000010_orders.up.sql", 2, "warning"),
                                   ("MS052", "m/000020_customers.up.sql", 1, "info")]
    fix = next(m for m in data["migrations"] if m["path"] == "m/000015_invoices.up.sql")["findings"][0]["fix"]
    assert fix == ("renumber it after 000030_carts.up.sql: rename 000015_invoices.up.sql and its .down.sql to "
                   "000041_invoices.up.sql")
    assert code == 1


ALEMBIC_REVISION = '''from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = {down}


def upgrade():
    op.create_table("t_{revision}", sa.Column("id", sa.BigInteger, primary_key=True))
'''


def test_alembic_revision_built_on_a_revision_that_is_no_longer_the_base_head(tmp_path, capsys, monkeypatch):
    versions = "migrations/versions"
    base = {"alembic.ini": "[alembic]\nscript_location = migrations\n", "migrations/env.py": "from alembic import context\n",
            f"{versions}/a1.py": ALEMBIC_REVISION.format(revision="a1", down="None")}
    repo = repository(tmp_path, base)
    # main gains b2 on a1 after the change branched off a1; the change adds c3 on a1, then d4 on c3.
    git(repo, "checkout", "-q", "main")
    (repo / versions / "b2.py").write_text(ALEMBIC_REVISION.format(revision="b2", down='"a1"'))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "b2")
    git(repo, "checkout", "-q", "change")
    (repo / versions / "c3.py").write_text(ALEMBIC_REVISION.format(revision="c3", down='"a1"'))
    (repo / versions / "d4.py").write_text(ALEMBIC_REVISION.format(revision="d4", down='"c3"'))
    monkeypatch.chdir(repo)
    code, data = check(capsys, ".", "--since", "main", "--select", HISTORY)
    assert found(data) == [("MS054", "./migrations/versions/c3.py", 5, "error")]
    finding = data["migrations"][0]["findings"][0]
    assert finding["fix"].startswith('set down_revision = "b2" in c3.py')
    assert code == 1
    # Without --since the branch alone has one head: nothing to say.
    code, data = check(capsys, ".", "--select", HISTORY)
    assert found(data) == [] and code == 0


def test_a_stale_suppression_of_a_since_rule_is_reported_only_with_since(tmp_path, capsys, monkeypatch):
    repo = repository(tmp_path, FLYWAY_BASE)
    monkeypatch.chdir(repo)
    (repo / "db/V4__refunds.sql").write_text(
        "-- migrasafe: ignore-file MS051 -- numbered by the release tool\nCREATE TABLE refunds (id bigint PRIMARY KEY);\n")
    code, data = check(capsys, "db", "--since", "main", "--select", HISTORY)
    assert found(data) == [("MS092", "db/V4__refunds.sql", 1, "info")] and code == 0
    code, data = check(capsys, "db", "--select", HISTORY)
    assert found(data) == [] and code == 0


def test_liquibase_edits_are_judged_per_changeset(tmp_path, capsys, monkeypatch):
    layout = Path(__file__).parent / "layouts" / "liquibase"
    files = {str(p.relative_to(layout)): p.read_text() for p in layout.rglob("*") if p.is_file()}
    repo = repository(tmp_path, files)
    monkeypatch.chdir(repo)
    changes = repo / "db/changelog/changes"
    indexes = (changes / "002-indexes.sql").read_text()
    edited = indexes.replace("ON orders (status);", "ON orders (status, id);")
    (changes / "002-indexes.sql").write_text(edited + "\n--changeset bob:new-one\nALTER TABLE orders ADD COLUMN x int;\n")
    # Whitespace inside a changeset: Liquibase's checksum leaves it out.
    orders = (changes / "001-orders.sql").read_text()
    (changes / "001-orders.sql").write_text(orders.replace("    note varchar(100)", "    note  varchar(100)"))
    code, data = check(capsys, ".", "--since", "main", "--select", HISTORY)
    assert found(data) == [("MS052", "./db/changelog/changes/002-indexes.sql", 6, "error")]
    (finding,) = [f for m in data["migrations"] for f in m["findings"]]
    assert finding["message"].startswith("changeset bob:status-index of 002-indexes.sql is already on main")
    assert code == 1
