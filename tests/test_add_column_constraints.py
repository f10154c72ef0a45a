"""Constraints written inside ADD COLUMN: which ones make PostgreSQL scan the table, checked on
every major, and the findings the rules give for them.

PostgreSQL skips the validation of a foreign key added with a new column when no ADD COLUMN of
the statement has a default and no table-level foreign key is added with it (parse_utilcmd.c,
transformAlterTableStmt: every row holds NULL, which satisfies the key); a CHECK is always
evaluated on every row. The scan is observed as the statement's own sequential scans of the
table in pg_stat_xact_user_tables, which counts the current transaction at once.
"""
from __future__ import annotations

import psycopg
import pytest

from pgtruth import scratch_database

SETUP = [
    "CREATE TABLE assistants (id int PRIMARY KEY)",
    "INSERT INTO assistants VALUES (1), (2)",
    "CREATE TABLE messages (id int PRIMARY KEY, body text)",
    "INSERT INTO messages SELECT g, 'x' FROM generate_series(1, 50) g",
]

# (ADD COLUMN statement, the majors on which PostgreSQL scans messages for it)
ALL, TWELVE = range(12, 100), range(12, 13)
CASES = [
    ("ALTER TABLE messages ADD COLUMN assistant_id int REFERENCES assistants(id)", ()),
    ("ALTER TABLE messages ADD COLUMN assistant_id int DEFAULT 1 REFERENCES assistants(id)", ALL),
    ("ALTER TABLE messages ADD COLUMN assistant_id int DEFAULT NULL REFERENCES assistants(id)", ALL),
    # A default on another added column: only 12 checks the key then.
    ("ALTER TABLE messages ADD COLUMN assistant_id int REFERENCES assistants(id), "
     "ADD COLUMN created_at timestamptz DEFAULT now()", TWELVE),
    ("ALTER TABLE messages ADD COLUMN n int CHECK (n > 0)", ALL),
    ("ALTER TABLE messages ADD COLUMN n int DEFAULT 1 CHECK (n > 0)", ALL),
    ("ALTER TABLE messages ADD COLUMN n int", ()),
]


def _seq_scans(conn) -> int:
    row = conn.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'messages'::regclass").fetchone()
    return row[0] if row else 0


@pytest.mark.parametrize("statement,majors", CASES, ids=[str(i) for i in range(len(CASES))])
def test_server_scans_only_when_expected(pg_server, statement, majors):
    scans = pg_server.major in majors
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql)
        with psycopg.connect(scratch.conninfo) as conn:
            before = _seq_scans(conn)
            conn.execute(statement)
            assert (_seq_scans(conn) > before) == scans, f"pg{pg_server.major}: {statement}"
            conn.rollback()


def test_default_that_breaks_the_key_is_rejected(pg_server):
    """The validation runs when a default fills the rows: a default with no referenced row fails."""
    with scratch_database(pg_server.uri) as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            for sql in SETUP:
                conn.execute(sql)
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute("ALTER TABLE messages ADD COLUMN assistant_id int DEFAULT 9 REFERENCES assistants(id)")


def _findings(tmp_path, sql: str, pg_version: int = 16):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text(";\n".join(SETUP) + ";\n")
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '2s';\n" + sql + ";\n")
    report = run([str(tmp_path)], Config(pg_version=pg_version))
    last = report.results[-1]
    return last, [f for f in last.all_findings() if f.rule not in ("MS032",)]


@pytest.mark.parametrize("index,statement,majors", [(i, s, m) for i, (s, m) in enumerate(CASES)],
                         ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("pg_version", [12, 16])
def test_rules_flag_what_the_server_scans(tmp_path, index, statement, majors, pg_version):
    """MS020/MS021 fire on a column constraint exactly when the server was seen scanning for it."""
    _, findings = _findings(tmp_path, statement, pg_version)
    flagged = any(f.rule in ("MS020", "MS021") for f in findings)
    constrained = "REFERENCES" in statement or "CHECK" in statement
    assert flagged == (constrained and pg_version in majors), [f.message for f in findings]


def test_each_added_column_judged_on_its_own(tmp_path):
    statement = ("ALTER TABLE messages ADD COLUMN token text, ADD COLUMN admin boolean NOT NULL DEFAULT false, "
                 "ADD COLUMN lease float8 DEFAULT random(), ADD COLUMN seen timestamptz DEFAULT now(), "
                 "ADD COLUMN rank int NOT NULL")
    last, findings = _findings(tmp_path, statement)
    sql = last.statements[-1].statement.sql
    by_rule = {f.rule: f for f in findings}
    assert sorted(f.rule for f in findings) == ["MS010", "MS026"]
    assert "rank" in by_rule["MS026"].message and "admin" not in by_rule["MS026"].message
    start, end = by_rule["MS026"].span
    assert sql[start:end].upper() == "NOT NULL" and sql.rfind("rank", 0, start) > sql.find("admin")
    assert "lease" in by_rule["MS010"].message
    start, end = by_rule["MS010"].span
    assert sql[:start].rstrip().endswith("lease float8")


def test_column_check_fix_moves_the_check_to_a_not_valid_constraint(tmp_path):
    _, findings = _findings(tmp_path, "ALTER TABLE messages ADD COLUMN n int CHECK (n > 0)")
    (fix,) = [f.fix for f in findings if f.rule == "MS021"]
    assert "ADD COLUMN n integer;" in fix
    assert "ADD CONSTRAINT messages_n_check CHECK (n > 0) NOT VALID;" in fix
    assert "VALIDATE CONSTRAINT messages_n_check;" in fix


def test_foreign_key_fix_for_default_null_leaves_the_default_out(tmp_path):
    """DEFAULT NULL changes no row, yet it is what makes the server check the key (CASES above):
    the same ADD COLUMN without it is checked by nobody, and needs no NOT VALID."""
    _, findings = _findings(tmp_path, "ALTER TABLE messages ADD COLUMN assistant_id int DEFAULT NULL "
                                      "REFERENCES assistants(id) ON DELETE CASCADE")
    (finding,) = [f for f in findings if f.rule == "MS020"]
    assert "with DEFAULT NULL: a written default, even NULL, makes PostgreSQL check every row" in finding.message
    statement = finding.fix.split("  --")[0]
    assert statement == "ALTER TABLE messages ADD COLUMN assistant_id integer REFERENCES assistants (id) ON DELETE CASCADE;"
    (tmp_path / "again").mkdir()
    _, again = _findings(tmp_path / "again", statement.rstrip(";"))
    assert [f.rule for f in again if f.rule in ("MS020", "MS021")] == []


def test_foreign_key_fix_for_a_real_default_stays_not_valid(tmp_path):
    _, findings = _findings(tmp_path, "ALTER TABLE messages ADD COLUMN assistant_id int DEFAULT 1 REFERENCES assistants(id)")
    (fix,) = [f.fix for f in findings if f.rule == "MS020"]
    assert "NOT VALID;" in fix and "VALIDATE CONSTRAINT" in fix
