"""MS007: an enum value used in the transaction that added it. Each case is one migration in an
explicit transaction, run on every PostgreSQL major: the statements the server refuses with
"unsafe use of new value" are exactly those MS007 reports."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migrasafe.check import run
from migrasafe.config import Config
from pgtruth import connect, scratch_database

SETUP = """CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE person (id bigint PRIMARY KEY, current_mood mood, note text);
INSERT INTO person VALUES (1, 'ok', 'x');
CREATE TYPE "Mood" AS ENUM ('a');
ALTER TABLE person ADD COLUMN "prismaMood" "Mood";
"""

CASES = {
    "update": ["ALTER TYPE mood ADD VALUE 'happy'", "UPDATE person SET current_mood = 'happy' WHERE id = 1"],
    "insert": ["ALTER TYPE mood ADD VALUE 'meh'", "INSERT INTO person (id, current_mood) VALUES (2, 'meh')"],
    "compare": ["ALTER TYPE mood ADD VALUE 'x1'", "SELECT count(*) FROM person WHERE current_mood = 'x1'"],
    "cast": ["ALTER TYPE mood ADD VALUE 'x2'", "SELECT 'x2'::mood"],
    "default": ["ALTER TYPE mood ADD VALUE 'x3'", "ALTER TABLE person ALTER COLUMN current_mood SET DEFAULT 'x3'"],
    "new column default": ["ALTER TYPE mood ADD VALUE 'x4'", "ALTER TABLE person ADD COLUMN m2 mood DEFAULT 'x4'"],
    "insert select": ["ALTER TYPE mood ADD VALUE 'x8'", "INSERT INTO person (id, current_mood) SELECT 3, 'x8'"],
    "multiple assignment": ["ALTER TYPE mood ADD VALUE 'x9'",
                            "UPDATE person SET (current_mood, note) = ('x9', 'n') WHERE id = 1"],
    "update in a WITH": ["ALTER TYPE mood ADD VALUE 'x10'",
                         "WITH u AS (UPDATE person SET current_mood = 'x10' RETURNING id) SELECT count(*) FROM u"],
    # An ORM's quoted enum: its columns are of "Mood", another type than mood.
    "quoted enum": ["ALTER TYPE \"Mood\" ADD VALUE 'b'", "UPDATE person SET \"prismaMood\" = 'b' WHERE id = 1"],
    # Not uses of the new value: the same text as another type's value, or a plain string.
    "other column": ["ALTER TYPE mood ADD VALUE 'x5'", "UPDATE person SET note = 'x5' WHERE id = 1"],
    "plain string": ["ALTER TYPE mood ADD VALUE 'x6'", "SELECT 'x6'"],
    "old value": ["ALTER TYPE mood ADD VALUE 'x7'", "UPDATE person SET current_mood = 'sad' WHERE id = 1"],
    "type created here": ["CREATE TYPE color AS ENUM ('red')", "ALTER TYPE color ADD VALUE 'blue'",
                          "CREATE TABLE paint (id int, c color DEFAULT 'blue')", "INSERT INTO paint VALUES (1, 'blue')"],
    "added before the transaction": ["UPDATE person SET current_mood = 'sad' WHERE id = 1"],
}


def refused_by_server(uri: str, statements: list[str]) -> set[int]:
    """Indexes of the statements PostgreSQL refuses as an unsafe use of a new enum value; the
    transaction ends at the first refusal."""
    with scratch_database(uri) as scratch, connect(scratch.conninfo) as conn:
        for statement in SETUP.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        try:
            with conn.transaction():
                for index, statement in enumerate(statements):
                    try:
                        conn.execute(statement)
                    except psycopg.errors.UnsafeNewEnumValueUsage:
                        return {index}
        except psycopg.errors.UnsafeNewEnumValueUsage:
            return {len(statements) - 1}
    return set()


def flagged_by_model(tmp_path: Path, statements: list[str], major: int) -> set[int]:
    (tmp_path / "001_setup.sql").write_text(SETUP)
    # One statement a line, after BEGIN on line 1: statement i is on line i + 2.
    (tmp_path / "002_change.sql").write_text("BEGIN;\n" + "".join(f"{s};\n" for s in statements) + "COMMIT;\n")
    report = run([str(tmp_path)], Config(pg_version=major, lock_timeout="2s"))
    return {f.line - 2 for f in report.all_findings()
            if f.rule == "MS007" and f.severity == "error" and Path(f.path).name == "002_change.sql"}


@pytest.mark.parametrize("name", list(CASES))
def test_ms007_reports_what_the_server_refuses(name, tmp_path, pg_servers):
    statements = CASES[name]
    for server in pg_servers:
        refused = refused_by_server(server.uri, statements)
        folder = tmp_path / str(server.major)
        folder.mkdir()
        flagged = flagged_by_model(folder, statements, server.major)
        # The server stops at the first refusal; the model reports every use: the first use it
        # reports is the statement the server refuses, and nothing is reported when it refuses none.
        assert min(flagged, default=None) == min(refused, default=None), (server.major, name, refused, flagged)


def test_an_added_value_in_a_run_wide_transaction_is_told(tmp_path):
    # Drizzle runs every pending migration of a deploy in one transaction (meta/_journal.json).
    import json

    folder = tmp_path / "drizzle"
    (folder / "meta").mkdir(parents=True)
    (folder / "0000_init.sql").write_text(SETUP.replace(";\n", ";\n--> statement-breakpoint\n"))
    (folder / "0001_happy.sql").write_text("ALTER TYPE mood ADD VALUE 'happy';\n")
    (folder / "0002_use.sql").write_text("UPDATE person SET current_mood = 'happy' WHERE id = 1;\n")
    entries = [{"idx": i, "version": "7", "when": 1700000000000 + i, "tag": tag, "breakpoints": True}
               for i, tag in enumerate(["0000_init", "0001_happy", "0002_use"])]
    (folder / "meta" / "_journal.json").write_text(json.dumps({"version": "7", "dialect": "postgresql",
                                                                "entries": entries}))
    alone = run([str(folder)], Config(lock_timeout="2s"))
    told = [(Path(f.path).name, f.severity) for f in alone.all_findings() if f.rule == "MS007"]
    # Checked as a whole history, each migration is its own run: the ADD VALUE is told (info),
    # the later use is not an error, since another deploy may have committed the value first.
    assert told == [("0001_happy.sql", "info")]
    # The two files named as one deploy's pending migrations: the use fails in that run.
    pending = run([str(folder / "0001_happy.sql"), str(folder / "0002_use.sql")], Config(lock_timeout="2s"))
    told = [(Path(f.path).name, f.severity) for f in pending.all_findings() if f.rule == "MS007"]
    assert ("0002_use.sql", "error") in told
