"""Fixes that move a statement out of its transaction, or a step into a later one, say what works in
the tool that runs the migration: each source format states it."""
from __future__ import annotations

import json

import pytest

from migrasafe.api import check
from migrasafe.config import Config
from migrasafe.sources.formats import SourceFormat
from migrasafe.sources.registry import FORMATS

BASE = "CREATE TABLE t (id int PRIMARY KEY, a int, b int);\nCREATE TABLE u (id int PRIMARY KEY);\n" \
       "CREATE INDEX t_a ON t (a);\n"
GENERIC_OUTSIDE = SourceFormat.__dataclass_fields__["outside_transaction"].default
GENERIC_LATER = SourceFormat.__dataclass_fields__["separate_transaction"].default


def _fixes(root, rule):
    report = check([str(root)])
    return [f.fix for r in report.results for s in r.statements for f in s.findings if f.rule == rule]


def _drizzle(root, *files):
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for n, sql in enumerate(files):
        tag = f"{n:04d}_m{n}"
        (root / f"{tag}.sql").write_text(sql)
        entries.append({"idx": n, "version": "7", "when": n + 1, "tag": tag, "breakpoints": True})
    (root / "meta").mkdir(exist_ok=True)
    (root / "meta" / "_journal.json").write_text(json.dumps({"version": "7", "dialect": "postgresql",
                                                            "entries": entries}))
    return root


def _prisma(root, *files):
    root.mkdir(parents=True, exist_ok=True)
    (root / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for n, sql in enumerate(files):
        (root / f"2024010{n + 1}000000_m{n}").mkdir()
        (root / f"2024010{n + 1}000000_m{n}" / "migration.sql").write_text(sql)
    return root


def _numbered(root, *files, suffix=".sql", header=""):
    root.mkdir(parents=True, exist_ok=True)
    for n, sql in enumerate(files):
        (root / f"2024010{n + 1}000000_m{n}{suffix}").write_text(header + sql)
    return root


def test_every_layout_says_how_it_runs_a_statement_outside_a_transaction():
    generic = [name for name, fmt in FORMATS.items() if fmt.outside_transaction == GENERIC_OUTSIDE]
    assert generic == []


@pytest.mark.parametrize("rule, change", [
    ("MS020", "ALTER TABLE t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES u (id);\n"),
    ("MS021", "ALTER TABLE t ADD CONSTRAINT t_a_ck CHECK (a > 0);\n"),
    ("MS024", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"),
])
def test_drizzle_validation_step_is_not_promised_a_transaction_of_its_own(tmp_path, rule, change):
    fixes = _fixes(_drizzle(tmp_path / "drizzle", BASE, change), rule)
    assert fixes
    assert "its own migration" not in fixes[0]
    assert "COMMIT;--> statement-breakpoint" in fixes[0] and "separate migrator run" in fixes[0]


def test_separate_migration_still_suggested_where_each_file_commits(tmp_path):
    fixes = _fixes(_numbered(tmp_path / "m", BASE, "ALTER TABLE t ADD CONSTRAINT t_a_ck CHECK (a > 0);\n",
                             header="-- +goose Up\n"), "MS021")
    assert fixes and GENERIC_LATER in fixes[0]


def test_node_pg_migrate_points_at_a_later_run():
    assert "single-transaction" in FORMATS["node-pg-migrate"].separate_transaction


@pytest.mark.parametrize("layout, expected", [
    ("prisma", "alone in its own migration folder"),
    ("drizzle", "COMMIT;--> statement-breakpoint"),
    ("goose", "+goose NO TRANSACTION"),
])
def test_drop_index_fix_says_how_to_leave_the_transaction(tmp_path, layout, expected):
    # Another statement in the file, which takes no AccessExclusiveLock on t (after one, the DROP
    # would add no lock, and only an info says so).
    change = "CREATE TABLE other (id int);\nDROP INDEX t_a;\n"
    if layout == "prisma":
        root = _prisma(tmp_path / "p", BASE, change)
    elif layout == "drizzle":
        root = _drizzle(tmp_path / "drizzle", BASE, change.replace("\n", "\n--> statement-breakpoint\n", 1))
    else:
        root = _numbered(tmp_path / "g", BASE, change, header="-- +goose Up\n")
    fixes = _fixes(root, "MS002")
    assert fixes and fixes[0].startswith("DROP INDEX CONCURRENTLY")
    assert expected in fixes[0]


@pytest.mark.parametrize("layout, expected", [
    ("prisma", "alone in its own migration folder"),
    ("drizzle", "COMMIT;--> statement-breakpoint"),
    ("goose", "+goose NO TRANSACTION"),
])
@pytest.mark.parametrize("change", [
    "ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);\n",
    "ALTER TABLE t ADD COLUMN c int UNIQUE;\n",
])
def test_unique_key_fix_says_where_the_concurrent_build_runs(tmp_path, layout, expected, change):
    # "Its own migration" is still in Drizzle's batch transaction: the tool's own way out.
    if layout == "prisma":
        root = _prisma(tmp_path / "p", BASE, change)
    elif layout == "drizzle":
        root = _drizzle(tmp_path / "drizzle", BASE, change)
    else:
        root = _numbered(tmp_path / "g", BASE, change, header="-- +goose Up\n")
    (fix,) = _fixes(root, "MS022")
    (build,) = [line for line in fix.splitlines() if "CONCURRENTLY" in line]
    assert "-- outside a transaction: " in build and expected in build


def test_lone_drop_index_outside_a_transaction_needs_no_note(tmp_path):
    fixes = _fixes(_prisma(tmp_path / "p", BASE, "DROP INDEX t_a;\n"), "MS002")
    assert fixes == ["DROP INDEX CONCURRENTLY t_a;"]


def test_batched_backfill_advice_follows_the_layout(tmp_path):
    update = "UPDATE t SET b = 0;\n"
    goose = _fixes(_numbered(tmp_path / "g", BASE, update, header="-- +goose Up\n"), "MS033")
    assert goose and "StatementBegin/StatementEnd" in goose[0] and "COMMIT" in goose[0]
    project = tmp_path / "s" / "supabase"
    (project / "migrations").mkdir(parents=True)
    (project / "config.toml").write_text('project_id = "x"\n')
    _numbered(project / "migrations", BASE, update)
    supabase = _fixes(project / "migrations", "MS033")
    assert supabase and "Supabase CLI" in supabase[0] and "without a transaction wrapper" not in supabase[0]


def test_backfill_under_the_ddls_lock_gets_the_batched_backfill_of_the_layout(tmp_path):
    change = "ALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = a WHERE c IS NULL;\n"
    prisma = _fixes(_prisma(tmp_path / "p", BASE, change), "MS030")
    assert prisma and "outside the DDL transaction" in prisma[0] and "COMMIT" in prisma[0]
    assert FORMATS["prisma"].outside_transaction in prisma[0]
    goose = _fixes(_numbered(tmp_path / "g", BASE, change, header="-- +goose Up\n"), "MS030")
    assert goose and "StatementBegin/StatementEnd" in goose[0]


def test_sqitch_fix_names_the_deploy_script(tmp_path):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (tmp_path / "sqitch.plan").write_text(
        "%project=p\n\na 2024-01-01T00:00:00Z A <a@example.com> # a\n"
        "b [a] 2024-01-02T00:00:00Z A <a@example.com> # b\n")
    (tmp_path / "deploy" / "a.sql").write_text("BEGIN;\n" + BASE + "COMMIT;\n")
    (tmp_path / "deploy" / "b.sql").write_text("BEGIN;\nCREATE INDEX t_b ON t (b);\nCOMMIT;\n")
    fixes = _fixes(tmp_path, "MS001")
    assert fixes and "remove BEGIN/COMMIT from this deploy script" in fixes[0]


def test_atlas_fix_names_txmode_none_and_rehashing_atlas_sum(tmp_path):
    (tmp_path / "1_a.sql").write_text(BASE)
    (tmp_path / "2_b.sql").write_text("CREATE INDEX t_b ON t (b);\n")
    (tmp_path / "atlas.sum").write_text("h1:x=\n1_a.sql h1:a=\n2_b.sql h1:b=\n")
    fixes = _fixes(tmp_path, "MS001")
    assert fixes and "'-- atlas:txmode none'" in fixes[0] and "`atlas migrate hash`" in fixes[0]


def test_atlas_directory_for_golang_migrate_gets_golang_migrate_advice(tmp_path):
    (tmp_path / "atlas.hcl").write_text('env "local" {\n  migration {\n    dir = "file://migrations"\n'
                                        '    format = golang-migrate\n  }\n}\n')
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1_a.up.sql").write_text(BASE)
    (tmp_path / "migrations" / "2_b.up.sql").write_text("ALTER TABLE t ADD COLUMN c int;\nCREATE INDEX t_b ON t (b);\n")
    fixes = _fixes(tmp_path, "MS001")
    assert fixes and FORMATS["golang-migrate"].outside_transaction in fixes[0]


@pytest.mark.parametrize("layout, expected", [
    ("golang-migrate", "if it times out: golang-migrate marks the version dirty: `migrate force "
                       "<the version before this one>`, then `migrate up`"),
    ("prisma", "if it times out: Prisma records the failure: `prisma migrate resolve --rolled-back"),
    ("goose", "if it times out: run `goose up` again"),
    ("popx", "retry the migration if it times out"),
])
def test_lock_timeout_fix_says_how_the_tool_reruns_after_a_timeout(tmp_path, layout, expected):
    change = "ALTER TABLE t ADD COLUMN c int;\n"
    if layout == "prisma":
        root = _prisma(tmp_path / "p", BASE, change)
    elif layout == "goose":
        root = _numbered(tmp_path / "g", BASE, change, header="-- +goose Up\n")
    else:
        root = _numbered(tmp_path / layout, BASE, change, suffix=".up.sql")
    report = check([str(root)], config=Config(format=layout if layout == "popx" else None))
    fixes = [f.fix for r in report.results for s in r.statements for f in s.findings if f.rule == "MS032"]
    assert fixes and expected in fixes[0].splitlines()[0]


def test_validate_fix_says_once_where_the_validation_goes(tmp_path):
    change = ("ALTER TABLE t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID;\n"
              "--> statement-breakpoint\nALTER TABLE t VALIDATE CONSTRAINT t_a_fk;\n")
    (fix,) = _fixes(_drizzle(tmp_path / "drizzle", BASE, change), "MS025")
    first = fix.splitlines()[0]
    assert first.startswith("-- move the VALIDATE out of the ADD's transaction, ")
    assert "COMMIT;--> statement-breakpoint" in first and "commit after" not in first
