"""`migrasafe fix --write` never writes SQL that does not parse: statements without their own
semicolon right after them get one where it belongs, and a rewrite that would not parse, or
that touches text outside the statements it fixes, is refused (exit 2) with the file untouched."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from migrasafe import cli
from migrasafe.parse import split_statements
from migrasafe.plan import fix
from migrasafe.replay.servers import available_servers

INIT = ("CREATE TABLE orgs (id bigint PRIMARY KEY);\n"
        "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint, total int);\n"
        "INSERT INTO orgs VALUES (1);\nINSERT INTO users VALUES (1, 1, 5);\n")

CASES = {
    "check without semicolon": "ALTER TABLE users ADD CONSTRAINT positive CHECK (total > 0)",
    "foreign key without semicolon": "ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id)\n",
    "semicolon after a line comment": (
        "ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id) -- the owner\n;\n"),
    "check ending in a line comment": "ALTER TABLE users ADD CONSTRAINT positive CHECK (total > 0) -- no negatives",
    "semicolon after a block comment": (
        "ALTER TABLE users ADD CONSTRAINT positive CHECK (total > 0) /* why:\n ; not this one */ ;\nSELECT 1;\n"),
    "commit without semicolon": "BEGIN;\nCREATE INDEX users_org_idx ON users (org_id);\nCOMMIT",
}


def _folder(tmp_path, change: str):
    (tmp_path / "001_init.sql").write_text(INIT)
    target = tmp_path / "002_change.sql"
    target.write_text(change)
    return target


@pytest.fixture(scope="module")
def server(server_pool):
    spec = next(s for s in available_servers() if s.major == 18)
    return server_pool.get(spec)


@pytest.mark.xdist_group("pg18")
@pytest.mark.parametrize("case", CASES)
def test_statements_without_their_own_semicolon_are_fixed_into_sql_that_runs(tmp_path, capsys, server, case):
    target = _folder(tmp_path, CASES[case])
    assert cli.main(["fix", "--write", str(target)]) == 0
    capsys.readouterr()
    fixed = target.read_text()
    assert fixed != CASES[case]
    assert all(s.node is not None for s in split_statements(fixed)), fixed
    assert cli.main(["check", "--format", "json", str(target)]) in (0, 1)
    assert '"MS000"' not in capsys.readouterr().out
    name = "fixcheck_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(server.uri, dbname=name, autocommit=True) as conn:
            conn.execute(INIT)
            for statement in split_statements(fixed):  # one by one, as psql runs a file
                conn.execute(statement.sql)
            if "CONSTRAINT" in CASES[case]:
                found = conn.execute("SELECT convalidated FROM pg_constraint WHERE conname IN ('positive', 'users_org')")
                assert found.fetchall() == [(True,)]
            else:
                found = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_org_idx'::regclass")
                assert found.fetchall() == [(True,)]
    finally:
        with psycopg.connect(server.uri, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_rewrite_that_does_not_parse_is_refused_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    target = _folder(tmp_path, CASES["check without semicolon"] + ";\n")
    before = target.read_bytes()
    # A fault in a fix: the VALIDATE it adds names the constraint with an unterminated quote.
    monkeypatch.setattr(fix, "ident", lambda name: '"' + name)
    assert cli.main(["fix", "--write", str(target)]) == 2
    err = capsys.readouterr().err
    assert "fix refused, nothing written" in err and "does not parse" in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["001_init.sql", "002_change.sql"]


def test_a_new_migration_that_does_not_parse_is_refused_with_the_edit_that_empties_the_file(tmp_path, capsys,
                                                                                        monkeypatch):
    # golang-migrate moves the VALIDATE to a new migration; if that one is bad, the file keeps its statement.
    (tmp_path / "000001_init.up.sql").write_text(INIT)
    target = tmp_path / "000002_change.up.sql"
    target.write_text("CREATE INDEX users_org_idx ON users (org_id);\nSELECT 1;\n")
    before = target.read_bytes()
    monkeypatch.setattr(fix, "_migration_files", lambda fmt, rel, *rest: [(rel, "CREATE INDEX CONCURRENTLY ON;\n")])
    assert cli.main(["fix", "--write", str(target)]) == 2
    assert "does not parse" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000001_init.up.sql", "000002_change.up.sql"]


def test_an_edit_outside_the_fixed_statements_is_refused(tmp_path, capsys, monkeypatch):
    target = _folder(tmp_path, "-- keep this comment\nSELECT 1;\nALTER TABLE users ADD CONSTRAINT positive CHECK (total > 0);\n")
    before = target.read_bytes()
    real = fix.FileFixer.not_valid

    def stray(self, analysed):  # a fault in a fix that also rewrites the file's first line
        real(self, analysed)
        self.edits.append(fix.Edit(0, 2, "##"))

    monkeypatch.setattr(fix.FileFixer, "not_valid", stray)
    assert cli.main(["fix", str(target)]) == 2  # the diff is refused too
    captured = capsys.readouterr()
    assert "outside the statements it fixes" in captured.err and "line 1" in captured.err
    assert "##" not in captured.out
    assert cli.main(["fix", "--write", str(target)]) == 2
    assert target.read_bytes() == before


def test_other_files_are_still_fixed_when_one_is_refused(tmp_path, capsys, monkeypatch):
    good = _folder(tmp_path, "CREATE INDEX users_org_idx ON users (org_id);\n")
    other = tmp_path / "003_more.sql"
    other.write_text("ALTER TABLE users ADD CONSTRAINT positive CHECK (total > 0);\n")
    before = other.read_bytes()
    real = fix.FileFixer.not_valid

    def broken(self, analysed):
        real(self, analysed)
        self.edits.append(fix.Edit(self.edits[-1].start, self.edits[-1].start, " ((("))

    monkeypatch.setattr(fix.FileFixer, "not_valid", broken)
    assert cli.main(["fix", "--write", str(good), str(other)]) == 2
    assert "003_more.sql: fix refused" in capsys.readouterr().err
    assert other.read_bytes() == before
    assert "CONCURRENTLY" in good.read_text()
