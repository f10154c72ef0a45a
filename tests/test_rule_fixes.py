"""The SQL a finding suggests is the user's own statement with the missing words added where
the grammar wants them, and it parses to the safe form."""
from __future__ import annotations

import pytest
from pglast import ast, parser

from migrasafe.api import check
from migrasafe.rules.base import insert_after, keyword_span


def test_keyword_span_skips_comments_names_and_strings():
    sql = "CREATE /* INDEX */ UNIQUE INDEX \"index\" ON t (c) WHERE note = 'INDEX'"
    start, end = keyword_span(sql, "INDEX")
    assert sql[start:end] == "INDEX" and start == sql.index("UNIQUE INDEX") + len("UNIQUE ")
    assert keyword_span("ALTER TABLE t ADD FOREIGN /* why */ KEY (a) REFERENCES u (id)", "FOREIGN KEY") == (18, 39)
    assert keyword_span("SELECT 'FOREIGN KEY'", "FOREIGN KEY") is None


@pytest.mark.parametrize("sql", [
    "CREATE INDEX ix ON t (c)",
    "create unique index if not exists \"Ix\" on s.t using gin (c) where c is not null",
    "CREATE /* the INDEX keyword */ INDEX ON t ((lower(c)))",
])
def test_concurrently_lands_after_index(sql):
    fixed = insert_after(sql, "INDEX", "CONCURRENTLY")
    node = parser.parse_sql(fixed)[0].stmt
    assert isinstance(node, ast.IndexStmt) and node.concurrent
    assert fixed.replace(" CONCURRENTLY", "", 1) == sql + ";"


BASE = "CREATE TABLE u (id bigint PRIMARY KEY);\nCREATE TABLE t (a bigint, c text);\nCREATE INDEX t_c ON t (c);\n"


@pytest.mark.parametrize("sql, rule, attr", [
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) ON DELETE CASCADE DEFERRABLE;\n",
     "MS020", "skip_validation"),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NO INHERIT;\n", "MS021", "skip_validation"),
    ("DROP INDEX IF EXISTS t_c;\n", "MS002", "concurrent"),
    ("CREATE INDEX -- comment\n  t_c2 ON t (c);\n", "MS001", "concurrent"),
])
def test_suggested_statement_parses_to_the_safe_form(tmp_path, sql, rule, attr):
    (tmp_path / "1_base.sql").write_text(BASE)
    (tmp_path / "2_change.sql").write_text(sql)
    report = check([str(tmp_path)])
    found = [f for r in report.results for s in r.statements for f in s.findings if f.rule == rule]
    assert found, rule
    suggested = found[0].fix.split("\n-- ")[0]
    node = parser.parse_sql(suggested)[0].stmt
    if isinstance(node, ast.AlterTableStmt):
        assert len(node.cmds) == 1
        node = node.cmds[0].def_
    assert getattr(node, attr) is True


def test_not_valid_fix_keeps_the_other_commands_of_the_statement(tmp_path):
    (tmp_path / "1_base.sql").write_text(BASE + "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id);\n")
    (tmp_path / "2_change.sql").write_text(
        "ALTER TABLE t DROP CONSTRAINT fk, ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) ON DELETE CASCADE;\n")
    report = check([str(tmp_path)])
    (found,) = [f for r in report.results for s in r.statements for f in s.findings if f.rule == "MS020"]
    node = parser.parse_sql(found.fix.split("\n-- ")[0])[0].stmt
    assert [c.subtype.name for c in node.cmds] == ["AT_DropConstraint", "AT_AddConstraint"]
    assert node.cmds[1].def_.skip_validation is True


def test_expand_contract_fixes_name_the_known_type_default_and_key(tmp_path):
    (tmp_path / "1_base.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, name varchar(40));\n")
    (tmp_path / "2_change.sql").write_text("ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
                                           "ALTER TABLE t RENAME COLUMN name TO full_name;\n")
    fixes = {f.rule: f.fix for r in check([str(tmp_path)]).results for s in r.statements for f in s.findings}
    assert "ADD COLUMN token uuid;" in fixes["MS010"]
    assert "SET DEFAULT gen_random_uuid();" in fixes["MS010"]
    assert "WHERE id BETWEEN :lo AND :hi AND token IS NULL" in fixes["MS010"]
    assert "ADD COLUMN full_name varchar(40);" in fixes["MS040"]
    assert "<" not in fixes["MS010"] + fixes["MS040"]


def _ms010_fix(tmp_path, base: str, change: str) -> str:
    (tmp_path / "1_base.sql").write_text(base)
    (tmp_path / "2_change.sql").write_text(change)
    (fix,) = [f.fix for r in check([str(tmp_path)]).results for s in r.statements for f in s.findings
              if f.rule == "MS010"]
    return fix


def test_the_backfill_walks_a_key_that_outlives_the_alter(tmp_path):
    fix = _ms010_fix(tmp_path, "CREATE TABLE t (id bigint CONSTRAINT t_pkey PRIMARY KEY, code text UNIQUE);\n",
                     "ALTER TABLE t DROP CONSTRAINT t_pkey, ADD COLUMN token uuid DEFAULT gen_random_uuid();\n")
    assert "WHERE code BETWEEN :lo AND :hi AND token IS NULL" in fix
    assert "t_pkey" not in fix


def test_a_backfill_by_the_key_the_alter_drops_keeps_it_until_done(tmp_path):
    fix = _ms010_fix(tmp_path, "CREATE TABLE t (a text, b text, CONSTRAINT t_pkey PRIMARY KEY (a, b));\n",
                     "ALTER TABLE t DROP CONSTRAINT t_pkey, ADD COLUMN id uuid DEFAULT gen_random_uuid() PRIMARY KEY;\n")
    assert "by t_pkey, which this ALTER TABLE drops: keep it until the backfill is done, then drop it" in fix
    update = fix.splitlines()[-1]
    assert update.startswith("UPDATE public.t SET id = gen_random_uuid() WHERE (a, b) BETWEEN (:lo_a, :lo_b)")
    for name in (":lo_a", ":lo_b", ":hi_a", ":hi_b"):
        update = update.replace(name, "'x'")
    assert isinstance(parser.parse_sql(update)[0].stmt, ast.UpdateStmt)
