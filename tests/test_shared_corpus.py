"""`migrasafe check` over real-world migration histories (../shared/corpus): no crash, and the
dangerous and safe files their notes name are judged as the notes say.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# Each SQL history and the folder that holds its migrations.
HISTORIES = {
    "MarquezProject__marquez": "migrations/api/src/main/resources/marquez/db/migration",
    "kestra-io__kestra": "migrations/jdbc-postgres/src/main/resources/migrations/postgres",
    "ory__kratos": "migrations/persistence/sql/migrations/sql",
    "rust-lang__crates.io": "migrations/migrations",
    "goharbor__harbor": "migrations/make/migrations/postgresql",
    "supabase__auth": "migrations/migrations",
}


def _history(name: str) -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared corpus not present at {SHARED}")
    path = SHARED / name / HISTORIES[name]
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="module")
def reports():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run([str(_history(name))], Config())
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_history_checks_without_internal_error(name, capsys):
    path = _history(name)
    code = main(["check", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err
    assert code in (0, 1, 2)
    assert out.startswith("{")


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_every_file_is_read_and_most_statements_parse(name, reports):
    report = reports(name)
    assert report.results, "no migrations found"
    statements = [a for r in report.results for a in r.statements]
    broken = [a for a in statements if a.statement.node is None]
    assert len(statements) > 20
    assert len(broken) <= len(statements) * 0.01, [(a.statement.line, a.statement.parse_error) for a in broken[:5]]


def _findings(report, file_part: str) -> set[str]:
    out = set()
    for result in report.results:
        if file_part in result.migration.path:
            out |= {f.rule for f in result.all_findings()}
    return out


def test_marquez_known_dangerous(reports):
    report = reports("MarquezProject__marquez")
    assert "MS011" in _findings(report, "V73__alter_all_timestamps_to_timestamptz")
    assert "MS020" in _findings(report, "V63__alter_tables_add_on_cascade_delete")
    v74 = _findings(report, "V74__alter_jobs_to_add_current_run_uuid")
    assert {"MS001", "MS030"} <= v74


def test_marquez_concurrent_index_file_runs_outside_a_transaction(reports):
    report = reports("MarquezProject__marquez")
    result = next(r for r in report.results if "V47__add_lineage_event_indexes" in r.migration.path)
    assert result.migration.in_transaction is False
    assert "MS004" not in {f.rule for f in result.all_findings()}


def test_kestra_stored_generated_columns_rewrite(reports):
    assert "MS012" in _findings(reports("kestra-io__kestra"), "V1_5__multitenant")


def test_kratos_fk_without_not_valid(reports):
    found = _findings(reports("ory__kratos"), "20251105000000000003_identity_id_not_null_fks")
    assert {"MS020", "MS024"} <= found


def test_harbor_int_to_bigint_rewrites(reports):
    assert "MS011" in _findings(reports("goharbor__harbor"), "0181_2.15.3_schema")


def test_supabase_validate_in_same_transaction(reports):
    found = _findings(reports("supabase__auth"), "20250904133000_add_oauth_client_id_to_session")
    assert {"MS025", "MS001"} <= found


def test_crates_safe_patterns_pass(reports):
    # Safe once a lock_timeout is in force: the runner's, as the configuration says.
    report = run([str(_history("rust-lang__crates.io"))], Config(lock_timeout="2s"))
    for safe in ("2026-06-17-094708-0000_add_versions_tar_sha256",
                 "2024-10-25-112826_make-unique-version-unique"):
        serious = {f.rule for r in report.results if safe in r.migration.path
                   for f in r.all_findings() if f.severity != "info"}
        assert not serious, (safe, serious)
    # Without one, the ACCESS EXCLUSIVE request of the column add is the lock-queue warning.
    plain = reports("rust-lang__crates.io")
    assert {(f.rule, f.severity) for r in plain.results if "add_versions_tar_sha256" in r.migration.path
            for f in r.all_findings() if f.severity != "info"} == {("MS032", "warning")}

