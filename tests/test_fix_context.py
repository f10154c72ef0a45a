"""A fix is written for one statement but runs inside its migration: it must leave the
migration's later statements working. A view kept under a renamed table's old name blocks later
column type changes and drops; a constant default defeats a later key on the column; a
generated column has no default or NOT NULL for the serial recipe to attach."""
from __future__ import annotations

import psycopg
import pytest

from migrasafe.api import check
from migrasafe.config import Config
from pgtruth import connect, scratch_database


def _fix(tmp_path, base: str, change: str, rule: str, config: Config | None = None) -> str:
    (tmp_path / "1_base.sql").write_text(base)
    (tmp_path / "2_change.sql").write_text(change)
    report = check([str(tmp_path)], config=config)
    (fix,) = [f.fix for r in report.results for s in r.statements for f in s.findings if f.rule == rule]
    return fix


RENAMED = "CREATE TABLE target (id serial PRIMARY KEY, url varchar(64), kind int, username text);\n"
LATER = ["ALTER TABLE registry ALTER COLUMN url TYPE varchar(256)", "ALTER TABLE registry DROP COLUMN kind"]


def test_the_view_of_a_rename_comes_after_the_later_alters_that_it_would_break(tmp_path, pg_server):
    fix = _fix(tmp_path, RENAMED, "BEGIN;\nALTER TABLE target RENAME TO registry;\n" + ";\n".join(LATER) + ";\nCOMMIT;\n",
               "MS041")
    assert "after line 4, still in the same transaction" in fix and "on lines 3, 4 fail" in fix
    rename = fix.splitlines()[0]
    view = next(line for line in fix.splitlines() if line.startswith("CREATE VIEW"))
    with scratch_database(pg_server.uri) as scratch, connect(scratch.conninfo) as conn:
        conn.execute(RENAMED)
        conn.execute("BEGIN")
        conn.execute(rename)
        for statement in LATER:
            conn.execute(statement)
        conn.execute(view.split("  --")[0])
        conn.execute("INSERT INTO target (url) VALUES ('x')")  # the old name still takes writes
        conn.execute("ROLLBACK")
        # Where the unconditional fix put it, the view made the later ALTER fail.
        conn.execute("BEGIN")
        conn.execute(rename)
        conn.execute(view.split("  --")[0])
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="used by a view"):
            conn.execute(LATER[0])
        conn.execute("ROLLBACK")


def test_a_rename_with_no_later_alter_keeps_the_view_beside_it(tmp_path):
    fix = _fix(tmp_path, RENAMED, "ALTER TABLE target RENAME TO registry;\nALTER TABLE registry ADD COLUMN note text;\n",
               "MS041")
    assert fix.splitlines()[1] == ("CREATE VIEW public.target AS SELECT * FROM public.registry;  "
                                   "-- same transaction; simple views accept writes")


def test_a_column_a_later_key_covers_gets_no_constant_default(tmp_path):
    fix = _fix(tmp_path, "CREATE TABLE claims (session_id int);\n",
               "ALTER TABLE claims ADD COLUMN id uuid NOT NULL;\n"
               "DO $$\nBEGIN\n  ALTER TABLE claims ADD CONSTRAINT claims_pk PRIMARY KEY (id);\nEND $$;\n", "MS026")
    assert "<constant>" not in fix
    assert "id becomes PRIMARY KEY claims_pk on line 4" in fix
    assert "SET DEFAULT gen_random_uuid();  -- new rows only" in fix


def test_a_column_no_later_key_covers_keeps_the_constant_default(tmp_path):
    fix = _fix(tmp_path, "CREATE TABLE claims (session_id int);\n", "ALTER TABLE claims ADD COLUMN id uuid NOT NULL;\n",
               "MS026")
    assert "NOT NULL DEFAULT <constant>" in fix


@pytest.mark.parametrize("pg, later_index, virtual", [(16, "", False), (18, "", True),
                                                      (18, "CREATE INDEX users_c ON users (c);\n", False)])
def test_a_stored_generated_column_is_replaced_by_a_trigger_filled_column(tmp_path, pg, later_index, virtual):
    fix = _fix(tmp_path, "CREATE TABLE users (id int PRIMARY KEY, a int, b int);\n",
               "ALTER TABLE users ADD COLUMN c int GENERATED ALWAYS AS (LEAST(a, b)) STORED;\n" + later_index, "MS012",
               Config(pg_version=pg))
    assert "sequence" not in fix and "NOT VALID" not in fix
    assert "ADD COLUMN c integer;" in fix and "BEFORE INSERT OR UPDATE trigger" in fix
    assert "UPDATE public.users SET c = LEAST(a, b) WHERE id BETWEEN :lo AND :hi" in fix
    assert ("VIRTUAL" in fix) is virtual
