"""`migrasafe fix`: the mechanical rewrites, byte for byte, in each format, and that they run."""
from __future__ import annotations

import difflib
import uuid
from pathlib import Path

import psycopg
import pytest

from migrasafe import cli
from migrasafe.check import run as run_check
from migrasafe.config import Config
from migrasafe.plan.fix import plan_fixes
from migrasafe.replay.servers import available_servers

from plan_replay import read_folder, run_file

INIT = """CREATE TABLE orgs (id bigserial PRIMARY KEY);
CREATE TABLE users (id bigserial PRIMARY KEY, email text, org_id bigint);
INSERT INTO orgs DEFAULT VALUES;
INSERT INTO users (email, org_id) VALUES ('a@example.com', 1), ('b@example.com', NULL);
"""
CHANGE = ("CREATE INDEX users_email_idx ON users (email);\n"
          "ALTER TABLE users ADD FOREIGN KEY (org_id) REFERENCES orgs (id);\n")
FIXED = {"MS001", "MS002", "MS020", "MS021", "MS032", "MS004", "MS006", "MS025"}


def layout(root: Path, fmt: str, change: str = CHANGE) -> Path:
    """A two-migration folder; returns the second migration's file."""
    root.mkdir(parents=True)
    if fmt == "sql":
        (root / "001_init.sql").write_text(INIT)
        target = root / "002_change.sql"
    elif fmt == "flyway":
        (root / "V1__init.sql").write_text(INIT)
        target = root / "V2__change.sql"
    elif fmt == "golang-migrate":
        (root / "000001_init.up.sql").write_text(INIT)
        target = root / "000002_change.up.sql"
    elif fmt == "dbmate":
        (root / "20240101000000_init.sql").write_text("-- migrate:up\n" + INIT + "-- migrate:down\n")
        target = root / "20240102000000_change.sql"
        change = "-- migrate:up\n" + change + "\n-- migrate:down\n"
    else:
        for name, text in (("2024-01-01-000000_init", INIT), ("2024-01-02-000000_change", change)):
            (root / name).mkdir()
            (root / name / "up.sql").write_text(text)
        return root / "2024-01-02-000000_change" / "up.sql"
    target.write_text(change)
    return target


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def remaining(root: Path) -> list[str]:
    report = run_check([str(root)], Config())
    return [f"{f.path}:{f.line} {f.rule}" for f in report.all_findings() if f.rule in FIXED]


@pytest.mark.parametrize("fmt", ["sql", "flyway", "golang-migrate", "dbmate", "diesel"])
def test_fix_writes_only_with_write_and_clears_the_findings(tmp_path, fmt, capsys):
    root = tmp_path / fmt
    target = layout(root, fmt)
    before = files(root)
    assert remaining(root)
    assert cli.main(["fix", str(target)]) == 0
    diff = capsys.readouterr().out
    assert "+ALTER TABLE users ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;" in diff
    assert "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);" in diff
    assert files(root) == before  # a diff only
    assert cli.main(["fix", "--write", str(target)]) == 0
    assert remaining(root) == []
    after = files(root)
    assert set(before) <= set(after)
    for name in set(before) - {str(target.relative_to(root))}:
        assert after[name] == before[name]


def test_fix_only_inserts_when_nothing_has_to_move(tmp_path):
    """Autocommit plain SQL: every original character is kept, in order; fixes are insertions."""
    root = tmp_path / "m"
    original = ("-- the change\r\n  CREATE INDEX users_email_idx ON users (email) ; -- why\r\n"
                "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\r\n"
                "/* é */ ALTER TABLE users ADD CONSTRAINT email_check CHECK (email <> '');")
    target = layout(root, "sql", "")
    target.write_bytes(b"\xef\xbb\xbf" + original.encode())
    fixes = plan_fixes([str(target)], Config())
    (change,) = fixes.changes
    assert change.before == "\ufeff" + original
    matcher = difflib.SequenceMatcher(None, change.before, change.after, autojunk=False)
    assert {op for op, *_ in matcher.get_opcodes()} <= {"equal", "insert"}
    assert change.after.startswith("\ufeff")
    assert "\n" not in change.after.replace("\r\n", "")  # the file's own line breaks
    assert "CREATE INDEX CONCURRENTLY users_email_idx ON users (email) ; -- why" in change.after
    assert "REFERENCES orgs (id) NOT VALID;\r\nALTER TABLE public.users VALIDATE CONSTRAINT users_org_fk;" in change.after
    assert "CHECK (email <> '') NOT VALID;\r\nALTER TABLE public.users VALIDATE CONSTRAINT email_check;" in change.after
    assert cli.main(["fix", "--write", str(target)]) == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert remaining(root) == []


def test_a_lone_statement_is_fixed_in_place(tmp_path):
    root = tmp_path / "d"
    target = layout(root, "dbmate", "CREATE UNIQUE INDEX users_email_key ON users (email);\n")
    fixes = plan_fixes([str(target)], Config())
    (change,) = fixes.changes
    assert "-- migrate:up transaction:false\nCREATE UNIQUE INDEX CONCURRENTLY users_email_key" in change.after
    root = tmp_path / "x"
    target = layout(root, "diesel", "CREATE INDEX users_email_idx ON users (email);\n")
    fixes = plan_fixes([str(target)], Config())
    assert sorted(c.path.name for c in fixes.changes) == ["metadata.toml", "up.sql"]
    assert next(c for c in fixes.changes if c.new).after == "run_in_transaction = false\n"


def test_no_version_free_for_a_new_migration_leaves_the_file_alone(tmp_path, capsys):
    root = tmp_path / "g"
    target = layout(root, "golang-migrate")
    (root / "000003_next.up.sql").write_text("SELECT 1;\n")
    before = files(root)
    assert cli.main(["fix", "--write", str(target)]) == 0
    err = capsys.readouterr().err
    assert "no free version between it and the next migration" in err
    assert files(root) == before


def test_fix_refuses_bad_input_clearly(tmp_path, capsys):
    assert cli.main(["fix", str(tmp_path / "nope.sql")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["fix", "--lock-timeout", "later", str(layout(tmp_path / "s", "sql"))]) == 2
    assert "not a duration" in capsys.readouterr().err


@pytest.fixture(scope="module")
def server(server_pool):
    spec = next(s for s in available_servers() if s.major == 18)
    return server_pool.get(spec)


@pytest.mark.xdist_group("pg18")
@pytest.mark.parametrize("fmt", ["sql", "flyway", "golang-migrate", "dbmate", "diesel"])
def test_fixed_migrations_run_on_postgres(tmp_path, fmt, server):
    root = tmp_path / fmt
    target = layout(root, fmt)
    assert cli.main(["fix", "--write", str(target)]) == 0
    name = "fix_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(server.uri, dbname=name, autocommit=True) as conn:
            migrations = read_folder(root, fmt)
            for migration in migrations.values():  # in the tool's order
                run_file(conn, migration)
            valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass")
            assert valid.fetchone() == (True,)
            fk = conn.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'users_org_id_fkey'")
            assert fk.fetchone() == (True,)
    finally:
        with psycopg.connect(server.uri, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_do_block_is_left_alone_with_a_note(tmp_path):
    root = tmp_path / "s"
    change = "DO $$\nBEGIN\n  CREATE INDEX users_email_idx ON users (email);\nEND\n$$;\n"
    target = layout(root, "sql", change)
    fixes = plan_fixes([str(target)], Config())
    assert not [c for c in fixes.changes if "CONCURRENTLY" in c.after]
    assert any("inside a DO block" in note for note in fixes.notes)
