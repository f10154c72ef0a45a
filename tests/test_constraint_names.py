"""The names MS021, MS022 and MS023 give a constraint the statement leaves unnamed are the ones
PostgreSQL gives it: checked on every supported major."""
from __future__ import annotations

import re

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.config import Config
from pgtruth import connect, scratch_database

SETUP = "CREATE TABLE accounts (id bigint, email text, org bigint, score int);"
ADDS = [
    ("ALTER TABLE accounts ADD PRIMARY KEY (id)", "MS022"),
    ("ALTER TABLE accounts ADD UNIQUE (email, org)", "MS022"),
    ("ALTER TABLE accounts ADD UNIQUE (email)", "MS022"),
    ("ALTER TABLE accounts ADD EXCLUDE USING btree (org WITH =)", "MS023"),
    ("ALTER TABLE accounts ADD CHECK (score > 0)", "MS021"),
]
# The name as the message gives it: "ADD UNIQUE accounts_email_key builds", "CHECK constraint x scans".
NAMED = re.compile(r"(?:ADD (?:PRIMARY KEY|UNIQUE|EXCLUDE) (\S+) builds|CHECK constraint (\S+) scans)")


def _named_by_migrasafe(tmp_path) -> list[str]:
    (tmp_path / "001_setup.sql").write_text(SETUP + "\n")
    (tmp_path / "002_add.sql").write_text("SET lock_timeout = '2s';\n" + ";\n".join(s for s, _ in ADDS) + ";\n")
    report = run([str(tmp_path)], Config())
    found = sorted((f.line, f.rule, f.message) for f in report.all_findings() if f.rule in ("MS021", "MS022", "MS023"))
    assert [rule for _, rule, _ in found] == [rule for _, rule in ADDS]
    names = []
    for _, _, message in found:
        match = NAMED.search(message)
        assert match, message
        names.append(match.group(1) or match.group(2))
    return names


def _constraints(conn) -> set[str]:
    # PostgreSQL 18 also lists NOT NULL constraints (a primary key adds them): not these rules'.
    return {row[0] for row in conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype <> 'n'")}


def test_unnamed_constraints_are_named_as_the_server_names_them(pg_server, tmp_path):
    named = _named_by_migrasafe(tmp_path)
    try:
        with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
            conn.execute(SETUP)
            server = []
            for statement, _ in ADDS:
                before = _constraints(conn)
                conn.execute(statement)
                after = _constraints(conn)
                server.append(*(after - before))
    except psycopg.Error as err:
        pytest.fail(f"pg{pg_server.major}: {err}")
    assert named == server


# A name already taken, in the table or elsewhere in the schema, or by a constraint the same
# statement adds first, is numbered: the fix's VALIDATE must name the new constraint, not the old.
TAKEN_SETUP = SETUP + ("ALTER TABLE accounts ADD CHECK (score > 0) NOT VALID;\n"
                       "CREATE TABLE others (id bigint, CONSTRAINT accounts_check CHECK (id > 0));\n")
TAKEN = [
    "ALTER TABLE accounts ADD CHECK (score < 100)",
    "ALTER TABLE accounts ADD CHECK (score <> 5), ADD CHECK (org > 0 AND score > 0), ADD CHECK (org > id)",
]


def test_a_taken_name_is_numbered_as_the_server_numbers_it(pg_server, tmp_path):
    (tmp_path / "001_setup.sql").write_text(TAKEN_SETUP)
    (tmp_path / "002_add.sql").write_text("SET lock_timeout = '2s';\n" + ";\n".join(TAKEN) + ";\n")
    report = run([str(tmp_path)], Config())
    fixes = sorted((f.line, f.fix) for f in report.all_findings() if f.rule == "MS021")
    named = [re.findall(r"VALIDATE CONSTRAINT (\S+);", fix) for _, fix in fixes]
    try:
        with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
            conn.execute(TAKEN_SETUP)
            server = []
            for statement in TAKEN:
                before = _constraints(conn)
                conn.execute(statement)
                added = conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass "
                                     "AND contype = 'c' AND NOT (conname = ANY(%s)) ORDER BY oid", (list(before),))
                server.append([row[0] for row in added])
    except psycopg.Error as err:
        pytest.fail(f"pg{pg_server.major}: {err}")
    assert named == server
    assert named[0] == ["accounts_score_check1"]
