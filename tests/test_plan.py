"""`migrasafe plan`: files in each format, numbering, refusals, and what the command writes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from migrasafe import cli
from migrasafe.check import run as run_check
from migrasafe.config import Config
from migrasafe.plan.errors import PlanError
from migrasafe.plan.files import write_new_files
from migrasafe.plan.layout import Layout
from migrasafe.plan.planner import prepare, write
from migrasafe.plan.steps import Settings

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)

SCHEMA = """CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    email text,
    score integer NOT NULL DEFAULT 0,
    customer_id bigint,
    legacy text NOT NULL
);
CREATE INDEX users_name_idx ON users (lower(name)) WHERE name <> '';
ALTER TABLE users ADD CONSTRAINT users_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
CREATE TABLE audit (id bigserial PRIMARY KEY, user_id bigint, note text);
CREATE TABLE tags (id bigserial PRIMARY KEY, code text UNIQUE);
CREATE TABLE tagged (id bigserial PRIMARY KEY, tag_code text REFERENCES tags (code));
"""

FORMATS = ("sql", "flyway", "golang-migrate", "dbmate", "diesel", "alembic", "sql-migrate", "supabase")

ALEMBIC_ENV = """from alembic import context
from sqlalchemy import create_engine


def run_migrations_online():
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""


def alembic_history(folder: Path, sql: str) -> None:
    (folder / "migrations" / "versions").mkdir(parents=True)
    (folder / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n"
                                        "sqlalchemy.url = postgresql+psycopg:///app\n")
    (folder / "migrations" / "env.py").write_text(ALEMBIC_ENV)
    (folder / "migrations" / "versions" / "0a1b2c3d4e5f_schema.py").write_text(
        '"""schema"""\nfrom alembic import op\n\nrevision = "0a1b2c3d4e5f"\ndown_revision = None\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n"
        f"    op.execute({sql!r})\n\n\ndef downgrade():\n    pass\n")

OPERATIONS = [
    ("rename-column", {"column": "users.name", "new_name": "full_name"}),
    ("rename-table", {"table": "users", "new_name": "people"}),
    ("change-column-type", {"column": "users.score", "type": "bigint"}),
    ("change-column-type", {"column": "users.email", "type": "varchar(320)", "using": "lower(email)"}),
    ("set-not-null", {"column": "users.email", "backfill": "'unknown'"}),
    ("add-not-null-column", {"column": "users.status", "type": "text", "default": "'active'"}),
    ("add-not-null-column", {"column": "users.tier", "type": "text", "backfill": "'free'"}),
    ("add-column-with-volatile-default", {"column": "users.token", "type": "uuid", "default": "gen_random_uuid()",
                                          "not_null": True}),
    ("add-foreign-key", {"columns": "audit.user_id", "references": "users", "on_delete": "cascade"}),
    ("add-unique", {"columns": "users.email"}),
    ("add-check", {"table": "users", "expression": "score >= 0"}),
    ("add-index", {"columns": "users.email,score", "unique": True}),
    ("drop-column", {"column": "users.legacy"}),
    ("drop-table", {"table": "customers"}),
]


def history(folder: Path, fmt: str, sql: str = SCHEMA) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "sql":
        (folder / "0001_schema.sql").write_text(sql)
    elif fmt == "flyway":
        (folder / "V1__schema.sql").write_text(sql)
    elif fmt == "golang-migrate":
        (folder / "000001_schema.up.sql").write_text(sql)
        (folder / "000001_schema.down.sql").write_text("")
    elif fmt == "dbmate":
        (folder / "20240101000000_schema.sql").write_text("-- migrate:up\n" + sql + "-- migrate:down\n")
    elif fmt == "alembic":
        alembic_history(folder, sql)
    elif fmt == "sql-migrate":
        (folder / "1_schema.sql").write_text("-- +migrate Up\n" + sql + "-- +migrate Down\n")
    elif fmt == "supabase":
        (folder / "supabase" / "migrations").mkdir(parents=True)
        (folder / "supabase" / "config.toml").write_text('project_id = "app"\n')
        (folder / "supabase" / "migrations" / "20240101000000_schema.sql").write_text(sql)
        return folder / "supabase" / "migrations"  # where the CLI and `plan --dir` look
    elif fmt == "diesel":
        (folder / "2024-01-01-000000_schema").mkdir()
        (folder / "2024-01-01-000000_schema" / "up.sql").write_text(sql)
        (folder / "2024-01-01-000000_schema" / "down.sql").write_text("")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("operation,arguments", OPERATIONS, ids=[f"{o}-{i}" for i, (o, _) in enumerate(OPERATIONS)])
def test_every_plan_passes_check_in_every_format(tmp_path, fmt, operation, arguments):
    folder = history(tmp_path / "m", fmt)
    prepared = prepare(str(folder), operation, arguments, Config(), Settings(), now=NOW)
    assert [f"{f.path}:{f.line} {f.rule} {f.message}" for f in prepared.findings] == []
    for migration in prepared.migrations:
        text = migration.files[0].text
        if fmt == "alembic":
            assert text.startswith("# Deploy before running: "), migration.main
            assert "op.execute(\"SET lock_timeout = '2s'\")" in text or "set_config('lock_timeout'" in text
            continue
        assert text.startswith("-- Deploy before running: "), migration.main
        statements = [line for line in text.splitlines() if not line.startswith("--")]
        if migration.step.own_lock_timeout:
            assert "  PERFORM set_config('lock_timeout', '2s', false);" in statements
        elif migration.step.transactional or fmt == "sql":
            assert "SET lock_timeout = '2s';" in statements, migration.main
        else:  # alone in its file: the header says how to set it on the runner's connection
            assert "-c lock_timeout=2s" in re.sub(r"\n--\s+", " ", text), migration.main
    # Written, the whole folder checks clean in place as well.
    write(prepared)
    report = run_check([str(folder)], Config())
    assert [f"{f.path}:{f.line} {f.rule}" for f in report.all_findings()] == []


def test_steps_that_cannot_run_in_a_transaction_are_alone_where_the_runner_needs_it(tmp_path):
    folder = history(tmp_path / "g", "golang-migrate")
    prepared = prepare(str(folder), "add-unique", {"columns": "users.email"}, Config(), now=NOW)
    index, constraint = prepared.migrations
    body = [line for line in index.files[0].text.splitlines() if line and not line.startswith("--")]
    assert body == ["CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON public.users (email);"]
    assert constraint.files[0].text.count("SET lock_timeout = '2s';") == 1
    folder = history(tmp_path / "d", "dbmate")
    index = prepare(str(folder), "add-index", {"columns": "users.email"}, Config(), now=NOW).migrations[0]
    assert "-- migrate:up transaction:false\n" in index.files[0].text
    assert "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY" in index.files[0].text
    folder = history(tmp_path / "x", "diesel")
    backfill = prepare(str(folder), "set-not-null", {"column": "users.email", "backfill": "'?'"}, Config(),
                       now=NOW).migrations[0]
    assert backfill.step.kind == "backfill"
    assert [f.path.split("/")[-1] for f in backfill.files] == ["up.sql", "down.sql", "metadata.toml"]
    assert "run_in_transaction = false" in backfill.files[2].text
    folder = history(tmp_path / "f", "flyway")
    backfill = prepare(str(folder), "set-not-null", {"column": "users.email", "backfill": "'?'"}, Config(),
                       now=NOW).migrations[0]
    assert backfill.files[1].path == backfill.main + ".conf"
    assert "executeInTransaction=false" in backfill.files[1].text
    folder = history(tmp_path / "s", "sql")
    migrations = prepare(str(folder), "rename-table", {"table": "users", "new_name": "people"}, Config(),
                         now=NOW).migrations
    body = [line for line in migrations[0].files[0].text.splitlines() if line and not line.startswith("--")]
    assert body[:2] == ["SET lock_timeout = '2s';", "BEGIN;"] and body[-1] == "COMMIT;"


def test_backfill_walks_the_primary_key_in_batches_of_the_given_size(tmp_path):
    folder = history(tmp_path / "m", "golang-migrate")
    prepared = prepare(str(folder), "rename-column", {"column": "users.name", "new_name": "full_name"},
                       Config(), Settings(batch_size=250, lock_timeout="750ms"), now=NOW)
    backfill = next(m for m in prepared.migrations if m.step.kind == "backfill")
    text = backfill.files[0].text
    assert "ORDER BY id LIMIT 250" in text
    assert "COMMIT;" in text and "set_config('lock_timeout', '750ms', false)" in text
    assert "full_name IS DISTINCT FROM name" in text  # a rerun skips rows already copied


def test_composite_primary_keys_are_walked_as_rows(tmp_path):
    schema = "CREATE TABLE memberships (org bigint, member bigint, role text, PRIMARY KEY (org, member));\n"
    folder = history(tmp_path / "m", "sql", schema)
    prepared = prepare(str(folder), "set-not-null", {"column": "memberships.role", "backfill": "'member'"},
                       Config(), now=NOW)
    text = prepared.migrations[0].files[0].text
    assert "(org, member) >= (ms_from_0, ms_from_1)" in text
    assert "ORDER BY org DESC, member DESC LIMIT 1" in text
    assert prepared.findings == []


@pytest.mark.parametrize("fmt,existing,expected", [
    ("sql", ["0007_a.sql"], ["0008_", "0009_"]),
    ("sql", ["7-a.sql"], ["8-", "9-"]),
    ("sql", ["1.2.9__a.sql"], ["1.2.10__", "1.2.11__"]),
    ("sql", ["20240101120000_a.sql"], ["20250304050607_", "20250304050608_"]),
    ("flyway", ["V1__a.sql", "V2__b.sql"], ["V3__", "V4__"]),
    ("flyway", ["V1_9__a.sql"], ["V1_10__", "V1_11__"]),
    ("flyway", ["V001__a.sql"], ["V002__", "V003__"]),
    ("golang-migrate", ["000009_a.up.sql"], ["000010_", "000011_"]),
    ("golang-migrate", ["1700000000_a.up.sql"], ["1741064767_", "1741064768_"]),
    ("dbmate", ["20990101000000_a.sql"], ["20990101000001_", "20990101000002_"]),
    ("diesel", ["2024-01-01-000000_a/up.sql"], ["2025-03-04-050607_", "2025-03-04-050608_"]),
    ("diesel", ["00000000000000_diesel_initial_setup/up.sql"], ["2025-03-04-050607_", "2025-03-04-050608_"]),
])
def test_version_numbering_continues_the_folder_style(tmp_path, fmt, existing, expected):
    for name in existing:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("-- migrate:up\nSELECT 1;\n" if fmt == "dbmate" else "SELECT 1;\n")
    layout = Layout.of(fmt, tmp_path)
    versions = layout.versions(2, NOW)
    names = [layout.main_file(v, "x") for v in versions]
    assert [n[: len(e)] for n, e in zip(names, expected)] == expected


@pytest.mark.parametrize("operation,arguments,message", [
    ("rename-column", {"column": "usr.name", "new_name": "x"}, "table usr does not exist"),
    ("rename-column", {"column": "users.nmae", "new_name": "x"}, "did you mean name"),
    ("rename-column", {"column": "users.name", "new_name": "email"}, "column email already exists"),
    ("rename-column", {"column": "users.id", "new_name": "uid"}, "part of the primary key"),
    ("rename-column", {"column": "users", "new_name": "x"}, "expected TABLE.COLUMN"),
    ("change-column-type", {"column": "users.score", "type": "int4"}, "already of type"),
    ("change-column-type", {"column": "users.score", "type": "bigint; drop table users"}, "not a PostgreSQL type"),
    ("change-column-type", {"column": "customers.id", "type": "int4"}, "part of the primary key"),
    ("change-column-type", {"column": "tags.code", "type": "varchar(20)"}, "foreign keys point at"),
    ("set-not-null", {"column": "users.name"}, "already NOT NULL"),
    ("set-not-null", {"column": "users.email", "backfill": "1); DROP TABLE users; SELECT (1"}, "one expression"),
    ("add-not-null-column", {"column": "users.status", "type": "text"}, "give --default"),
    ("add-not-null-column", {"column": "users.status", "type": "text", "default": "random()"}, "volatile"),
    ("add-foreign-key", {"columns": "audit.note", "references": "users.email"}, "no primary key or unique"),
    ("add-check", {"table": "users", "expression": "scroe > 0"}, "scroe, which is not a column"),
    ("add-index", {"columns": "users.name", "name": "users_name_idx"}, "already exists"),
    ("rename-table", {"table": "users", "new_name": "customers"}, "already exists"),
    ("drop-column", {"column": "customers.id"}, "primary key"),
])
def test_refusals_say_what_is_wrong(tmp_path, operation, arguments, message):
    folder = history(tmp_path / "m", "golang-migrate")
    with pytest.raises(PlanError, match=message):
        prepare(str(folder), operation, arguments, Config(), now=NOW)


def test_a_broken_history_is_refused_rather_than_planned_on(tmp_path):
    folder = history(tmp_path / "m", "sql", SCHEMA + "ALTER TABLE users ADD COLUM x int;\n")
    with pytest.raises(PlanError, match="cannot be read completely"):
        prepare(str(folder), "add-index", {"columns": "users.email"}, Config(), now=NOW)


def test_an_empty_folder_needs_its_format(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = cli.main(["plan", "add-index", "users.email", "--dir", str(tmp_path / "empty")])
    assert code == 2
    assert "pass --source-format" in capsys.readouterr().err


def test_dry_run_prints_and_writes_nothing(tmp_path, capsys):
    folder = history(tmp_path / "m", "golang-migrate")
    before = snapshot(folder)
    code = cli.main(["plan", "rename-column", "users.name", "full_name", "--dir", str(folder), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert snapshot(folder) == before
    assert "── deploy: the application version that reads and writes public.users.full_name" in out
    assert f"==> {folder}/000002_add_users_full_name.up.sql <==" in out
    assert "Order: run steps 1-" in out


@pytest.mark.parametrize("first,separator", [("1_schema.sql", "_"), ("20240101000000-schema.sql", "-")])
def test_plan_names_sql_migrate_files_with_the_history_separator(tmp_path, first, separator):
    # `sql-migrate new` writes <timestamp>-<name>.sql; a history of 1_name.sql keeps its "_".
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / first).write_text("-- +migrate Up\n" + SCHEMA + "-- +migrate Down\n")
    before = snapshot(folder)
    prepared = prepare(str(folder), "add-unique", {"columns": "users.email"}, Config(), now=NOW)
    write(prepared)
    new = sorted(set(snapshot(folder)) - set(before))
    version = first.split(separator)[0]
    assert len(new) == 2
    assert all(re.fullmatch(rf"\d+{re.escape(separator)}\w+\.sql", n) and n > version for n in new), new
    index, constraint = (folder / n for n in sorted(new, key=lambda n: int(re.match(r"\d+", n).group(0))))
    assert index.read_text().count("-- +migrate Up notransaction\n") == 1
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in index.read_text()
    assert "-- +migrate Up\n" in constraint.read_text() and "USING INDEX" in constraint.read_text()
    report = run_check([str(folder)], Config())
    assert [f"{f.path}:{f.line} {f.rule}" for f in report.all_findings()] == []
    assert [r.migration.in_transaction for r in report.results][-2:] == [False, True]


def test_plan_writes_supabase_migrations_in_the_cli_layout(tmp_path):
    folder = history(tmp_path / "p", "supabase")
    before = snapshot(folder)
    prepared = prepare(str(folder), "add-unique", {"columns": "users.email"}, Config(), now=NOW)
    write(prepared)
    new = sorted(set(snapshot(folder)) - set(before))
    assert new == ["20250304050607_index_users_email_key.sql", "20250304050608_add_users_email_key.sql"]
    index, constraint = ((folder / n).read_text() for n in new)
    # No -- +migrate style annotations: the CLI runs the file as written, CONCURRENTLY on its own.
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in index and "+migrate" not in index
    assert "USING INDEX" in constraint
    report = run_check([str(folder)], Config())
    assert [f"{f.path}:{f.line} {f.rule}" for f in report.all_findings()] == []
    assert [r.migration.format for r in report.results] == ["supabase"] * 3


def test_plan_writes_the_files_and_keeps_the_folder(tmp_path, capsys):
    folder = history(tmp_path / "m", "dbmate")
    before = snapshot(folder)
    code = cli.main(["plan", "add-unique", "users.email", "--dir", str(folder)])
    assert code == 0, capsys.readouterr().err
    after = snapshot(folder)
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(set(after) - set(before))
    assert len(new) == 2 and all(n.endswith("_users_email_key.sql") for n in new)
    assert "wrote 2 migration(s)" in capsys.readouterr().out
    assert not [p for p in folder.iterdir() if p.name.startswith(".migrasafe-")]


def test_plan_never_replaces_an_existing_file(tmp_path):
    folder = history(tmp_path / "m", "sql")
    prepared = prepare(str(folder), "add-unique", {"columns": "users.email"}, Config(), now=NOW)
    taken = folder / prepared.migrations[1].main
    taken.write_bytes(b"-- mine\n")
    before = snapshot(folder)
    with pytest.raises(PlanError, match="already exists"):
        write(prepared)
    assert snapshot(folder) == before


def test_write_new_files_removes_what_it_created_when_one_fails(tmp_path, monkeypatch):
    import migrasafe.plan.files as files

    real = files.create_file
    calls = []

    def failing(target, data):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(target, data)

    monkeypatch.setattr(files, "create_file", failing)
    with pytest.raises(OSError):
        write_new_files(tmp_path, [("a/one.sql", "1"), ("a/two.sql", "2")])
    assert list(tmp_path.iterdir()) == []


def test_plan_command_reports_bad_input_without_a_traceback(tmp_path, capsys):
    folder = history(tmp_path / "m", "flyway")
    cases = [
        (["plan", "rename-column", "users.name", "full_name", "--dir", str(tmp_path / "missing")], "no such folder"),
        (["plan", "rename-column", "nope.name", "x", "--dir", str(folder)], "does not exist"),
        (["plan", "add-index", "users.email", "--dir", str(folder), "--lock-timeout", "soon"], "not a duration"),
        (["plan", "add-index", "users.email", "--dir", str(folder), "--batch-size", "0"], "at least 1"),
        (["plan", "add-foreign-key", "audit.user_id", "users", "--on-delete", "explode", "--dir", str(folder)],
         "invalid choice"),
        (["plan", "--dir", str(folder)], ""),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err, (argv, err)
        assert "Traceback" not in err and "internal error" not in err
    # The same through the installed entry point, where an exception would print a traceback.
    result = subprocess.run([sys.executable, "-m", "migrasafe", *cases[1][0]], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_sync_trigger_and_default_follow_the_history(tmp_path):
    folder = history(tmp_path / "m", "sql")
    prepared = prepare(str(folder), "rename-column", {"column": "users.name", "new_name": "full_name"}, Config(),
                       now=NOW)
    expand, contract = prepared.migrations[0].files[0].text, prepared.migrations[-1].files[0].text
    # The running application leaves name to its default ('') when it writes full_name only.
    assert "NEW.name IS NULL OR NEW.name IS NOT DISTINCT FROM ('')" in expand
    assert "ALTER COLUMN full_name SET DEFAULT ''" in contract
    # The partial expression index on name is rebuilt on full_name.
    index = next(m for m in prepared.migrations if m.step.kind == "index").files[0].text
    assert "ON public.users ((lower(full_name))) WHERE full_name <> ''" in index
    assert "-- migrasafe: ignore MS042 -- the application stopped using name in the previous deploy" in contract
    assert prepared.migrations[-1].step.deploy


def test_the_cli_lists_every_operation():
    from migrasafe.plan.operations import OPERATIONS

    result = subprocess.run([sys.executable, "-m", "migrasafe", "plan", "--help"], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0
    for name in OPERATIONS:
        assert name in result.stdout
    assert len(OPERATIONS) >= 12
    assert os.path.isdir(ROOT / "docs" / "plan")
    for name in OPERATIONS:
        assert (ROOT / "docs" / "plan" / f"{name}.md").is_file(), name


def test_docs_show_what_plan_writes(tmp_path):
    from plan_docs import pages

    stale = []
    for path, text in pages(tmp_path).items():
        if os.environ.get("MIGRASAFE_UPDATE_SNAPSHOTS") == "1":
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(path.name)
    assert stale == [], f"out of date (MIGRASAFE_UPDATE_SNAPSHOTS=1 rewrites them): {stale}"


def test_alembic_revisions_chain_to_the_current_head(tmp_path):
    folder = history(tmp_path / "a", "alembic")
    prepared = prepare(str(folder), "set-not-null", {"column": "users.email", "backfill": "'a:b'"}, Config(), now=NOW)
    previous = "0a1b2c3d4e5f"
    for migration in prepared.migrations:
        text = migration.files[0].text
        assert migration.files[0].path == f"migrations/versions/{migration.version}_{migration.step.slug}.py"
        assert f"revision = {migration.version!r}\ndown_revision = {previous!r}\n" in text
        previous = migration.version
    backfill = prepared.migrations[0].files[0].text
    assert "with op.get_context().autocommit_block():\n        op.execute(sa.text(" in backfill
    assert r"email = ('a\:b')" in backfill  # sa.text would read :b as a bind parameter
    check = prepared.migrations[1].files[0].text
    assert "    with op.get_context().autocommit_block():\n        pass\n    op.execute(\"SET lock_timeout" in check


def test_alembic_projects_with_two_heads_are_refused(tmp_path):
    folder = history(tmp_path / "a", "alembic")
    for revision in ("1111aaaa2222", "3333bbbb4444"):
        (folder / "migrations" / "versions" / f"{revision}_branch.py").write_text(
            f'"""branch"""\nrevision = "{revision}"\ndown_revision = "0a1b2c3d4e5f"\n'
            "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
    with pytest.raises(PlanError, match="2 heads"):
        prepare(str(folder), "add-index", {"columns": "users.email"}, Config(), now=NOW)


def test_every_writer_is_found_under_its_format():
    from migrasafe.plan.writers import WRITERS

    assert all(WRITERS[fmt].format == fmt for fmt in WRITERS)
