"""The Alembic histories of ../shared/corpus (pypi/warehouse, getredash/redash): every revision is
rendered or says why not, nothing crashes, and the revisions their notes (SOURCE.md) call safe or
dangerous are judged so.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PROJECTS = {
    "pypi__warehouse": "migrations/warehouse/migrations",
    "getredash__redash": "migrations/migrations",
}


def script_location(name: str) -> Path:
    path = SHARED / name / PROJECTS[name]
    if not path.is_dir():
        pytest.skip(f"{path} not present (the shared corpus is not checked out here)")
    return path


@pytest.fixture(scope="module")
def reports():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run([str(SHARED / name)], Config())
        return cache[name]

    return get


def findings_of(report, rev: str) -> list[tuple[str, int]]:
    (result,) = [r for r in report.results if r.migration.version == rev]
    return sorted((f.rule, f.line) for f in result.all_findings())


def upgrade_is_empty(path: Path) -> bool:
    tree = ast.parse(path.read_bytes())
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    body = [n for n in upgrade.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return all(isinstance(n, ast.Pass) for n in body)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_whole_history_checks_without_internal_error(name, capsys):
    script_location(name)
    code = main(["check", str(SHARED / name), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert err == "" and out.startswith("{")


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_revision_is_rendered_or_says_why_not(name, reports):
    files = sorted((script_location(name) / "versions").glob("*.py"))
    report = reports(name)
    assert report.findings == []
    assert sorted(Path(r.migration.meta["file"]).name for r in report.results) == [f.name for f in files]
    for result in report.results:
        migration = result.migration
        assert not migration.broken, [f.message for f in migration.findings]
        assert all(a.statement.node is not None for a in result.statements), migration.path
        notes = [f for f in migration.findings if f.rule == "MS096"]
        assert result.statements or notes or upgrade_is_empty(Path(migration.meta["file"])), migration.path


def test_warehouse_runs_each_revision_in_its_own_transaction_under_env_py_timeouts(reports):
    script_location("pypi__warehouse")
    report = reports("pypi__warehouse")
    assert {r.migration.meta.get("shared_transaction") for r in report.results} == {None}
    assert {"its own transaction" in r.migration.transaction_reason for r in report.results} == {True}
    setup = report.results[0].migration.meta["session_setup"]
    assert [s.sql for s in setup] == ["SET statement_timeout = 5000", "SET lock_timeout = 4000"]
    # env.py's 4s covers every revision; the only MS032 findings are on revisions that raise
    # lock_timeout themselves above the max_lock_timeout ceiling (10s), which counts as none.
    found = [f for f in report.all_findings() if f.rule == "MS032"]
    assert found and all("(set by the migration), longer than the 10s max_lock_timeout" in f.message for f in found)


def test_warehouse_known_safe_revisions_pass(reports):
    script_location("pypi__warehouse")
    report = reports("pypi__warehouse")
    # autocommit_block + postgresql_concurrently, after op.get_bind().commit()
    assert findings_of(report, "2db9b00c8d00") == []
    # ADD COLUMN ... DEFAULT false NOT NULL: no rewrite since PostgreSQL 11
    assert findings_of(report, "fdf9e337538a") == []
    # server_default=now() is STABLE: no rewrite (its plain CREATE INDEX is flagged on its own line)
    assert findings_of(report, "14ad61e054cf") == [("MS001", 59)]


def test_warehouse_renames_and_foreign_keys_are_flagged(reports):
    script_location("pypi__warehouse")
    found = findings_of(reports("pypi__warehouse"), "f7d91bbfd59e")
    assert [line for rule, line in found if rule == "MS040"] == [21, 42, 63, 81]
    assert [line for rule, line in found if rule == "MS020"] == [31, 52, 70, 88]


def test_warehouse_explicit_lock_table_is_modelled(reports):
    script_location("pypi__warehouse")
    (result,) = [r for r in reports("pypi__warehouse").results if r.migration.version == "104b4c56862b"]
    lock = next(a for a in result.statements if a.statement.sql.startswith("LOCK TABLE"))
    assert {(l.relation, l.mode) for l in lock.impact.locks} >= {("public.packages", "ExclusiveLock")}


def test_redash_json_columns_rewrite_each_table(reports):
    script_location("getredash__redash")
    (result,) = [r for r in reports("getredash__redash").results if r.migration.version == "7205816877ec"]
    rewritten = {a.statement.sql.split()[2] for a in result.statements if any(f.rule == "MS011" for f in a.findings)}
    assert {"queries", "events", "organizations", "alerts", "dashboards", "changes", "visualizations",
            "widgets"} <= rewritten


def test_redash_data_migrations_are_rendered_around_their_loops(reports):
    script_location("getredash__redash")
    report = reports("getredash__redash")
    for rev in ("98af61feea92", "d7d747033183"):
        found = findings_of(report, rev)
        assert ("MS096", 52) in found and ("MS024", 60) in found, found
    # Flask-Migrate's env.py sets nothing: one transaction around the whole upgrade, but a whole
    # history is checked one revision per upgrade; --from makes the revisions after it one run.
    assert {"whole upgrade in one transaction" in r.migration.transaction_reason for r in report.results} == {True}
    assert {r.migration.meta.get("shared_transaction") for r in report.results} == {None}
