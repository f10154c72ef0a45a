from migrasafe.parse import preprocess, split_statements


def test_positions_are_one_based_lines_and_columns():
    stmts = split_statements("-- héllo\nCREATE TABLE é (id int);\n  ALTER TABLE t\n  ADD x int;")
    assert [(s.line, s.column, s.end_line) for s in stmts] == [(2, 1, 2), (3, 3, 4)]
    assert stmts[0].sql == "CREATE TABLE é (id int)"


def test_a_bad_statement_costs_only_itself():
    stmts = split_statements("select 1; SELEC bad; create table x();\nselect 2;")
    assert [s.sql for s in stmts] == ["select 1", "SELEC bad", "create table x()", "select 2"]
    assert stmts[1].node is None and 'syntax error at or near "SELEC"' in stmts[1].parse_error
    assert "line 1, column 11" in stmts[1].parse_error
    assert all(s.node is not None for s in stmts if s is not stmts[1])


def test_semicolons_inside_quotes_and_dollar_bodies_do_not_split():
    text = "selec 1; select 'a;b', E'x\\';y', \"q;\" ; do $$ begin perform 1; end $$; /* ; */ select 3"
    stmts = split_statements(text)
    assert len(stmts) == 4
    assert stmts[2].sql.startswith("do $$")


def test_unterminated_dollar_quote_becomes_a_syntax_error():
    stmts = split_statements("select 1; create function f() returns int as $$ select 1; ")
    assert stmts[0].node is not None
    assert stmts[1].node is None and "unterminated" in stmts[1].parse_error


def test_line_offset_shifts_lines():
    assert split_statements("select 1;", line_offset=10)[0].line == 11


def test_go_templates_keep_positions_and_are_noted():
    text = 'CREATE SCHEMA {{ index .Options "Namespace" }};\nselect 1;'
    pre = preprocess(text)
    assert len(pre.text) == len(text)
    assert pre.notes == [(1, 'template placeholder {{ index .Options "Namespace" }} substituted')]
    assert split_statements(pre.text)[1].line == 2


def _schemas(text):
    return [s.node.relation.schemaname for s in split_statements(preprocess(text).text)]


def test_spellings_of_one_go_template_become_one_identifier_in_place():
    text = (
        'CREATE TABLE {{ index .Options "Namespace" }}.a (id int); SELECT 1;\n'
        '  ALTER TABLE {{index  .Options "Namespace"}}.a ADD b int;\n'
        "CREATE TABLE {{ .Prefix }}users (id int);\nCREATE TABLE {{.Prefix}}users (id int);"
    )
    pre = preprocess(text)
    assert len(pre.text) == len(text)
    stmts = split_statements(pre.text)
    select_column = text.index("SELECT 1") + 1
    assert [(s.line, s.column) for s in stmts] == [(1, 1), (1, select_column), (2, 3), (3, 1), (4, 1)]
    assert stmts[1].sql == "SELECT 1"
    assert all(s.parse_error is None for s in stmts)
    first, _, second, prefixed, unprefixed = stmts
    assert first.node.relation.schemaname == second.node.relation.schemaname
    assert first.node.relation.schemaname.startswith("tmpl_")
    assert prefixed.node.relation.relname == unprefixed.node.relation.relname
    assert prefixed.node.relation.relname.endswith("users")


def test_different_go_templates_become_different_identifiers():
    templates = ["{{ .Schema }}", "{{ .Other }}", '{{ index .Options "Namespace" }}',
                 '{{ index .Options "namespace" }}', "{{x}}", "{{y}}"]
    schemas = _schemas("".join(f"CREATE TABLE {t}.t (id int);\n" for t in templates))
    assert len(set(schemas)) == len(templates)


def test_spellings_of_one_go_template_name_one_relation(tmp_path):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "20240101000000_a.up.sql").write_text(
        'CREATE TABLE {{ index .Options "Namespace" }}.users (id int);\n'
        'ALTER TABLE {{index .Options "Namespace" }}.users ADD COLUMN name text NOT NULL;\n'
    )
    (tmp_path / "20240102000000_b.up.sql").write_text(
        'ALTER TABLE {{index .Options "Namespace"}}.users ADD COLUMN note text;\n'
    )
    report = run([str(tmp_path)], Config())
    assert [r.migration.format for r in report.results] == ["popx", "popx"]
    relations = {lock.relation for r in report.results for s in r.statements for lock in s.impact.locks}
    assert len(relations) == 1 and relations.pop().endswith(".users")
    # Created in the same migration, so adding a NOT NULL column without a default is safe.
    assert [f.rule for f in report.results[0].all_findings() if f.rule == "MS026"] == []


def test_array_literals_are_not_templates():
    assert preprocess("select '{{1,2},{3,4}}'::int[];").notes == []


def test_psql_meta_commands_are_blanked():
    pre = preprocess("\\set ON_ERROR_STOP on\nselect 1;\n\\c other\n")
    assert [line for line, _ in pre.notes] == [1, 3]
    assert [s.line for s in split_statements(pre.text)] == [2]


def _shape(node):
    """A node tree as nested tuples of (class, attribute, type, value), for strict comparison."""
    from pglast import ast

    if isinstance(node, tuple):
        return tuple(_shape(n) for n in node)
    if not isinstance(node, ast.Node):
        return (type(node).__name__ if not isinstance(node, bool) else "int", node)
    return (type(node).__name__,) + tuple((a, _shape(getattr(node, a))) for a in node)


def test_fast_tree_building_builds_the_same_trees():
    from pathlib import Path

    from pglast import parser

    from migrasafe.parse import parse_sql

    root = Path(__file__).resolve().parents[1] / "corpus"
    texts = [p.read_text() for p in sorted(root.rglob("*.sql"))]
    assert len(texts) > 100
    for text in texts:
        try:
            checked = parser.parse_sql(text)
        except parser.ParseError:
            continue
        fast = parse_sql(text)
        assert [_shape(s.stmt) for s in fast] == [_shape(s.stmt) for s in checked]
        assert [(s.stmt_location, s.stmt_len) for s in fast] == [(s.stmt_location, s.stmt_len) for s in checked]


def test_a_quoted_template_names_the_same_identifier_as_any_other_spelling():
    text = ('CREATE TABLE "{{ index .Options "Namespace" }}"."users" (id int);\n'
            'ALTER TABLE "{{index .Options "Namespace"}}".users ADD COLUMN a int;\n'
            'ALTER TABLE {{ index .Options "Namespace" }}.users ADD COLUMN b int;\n')
    done = preprocess(text).text
    assert len(done) == len(text) and done.count("\n") == text.count("\n")
    statements = split_statements(done)
    names = {(n.relation.schemaname, n.relation.relname) for n in (s.node for s in statements)}
    assert len(names) == 1 and next(iter(names))[0].startswith("tmpl_")
    assert [s.column for s in statements] == [1, 1, 1]


def test_messages_and_fixes_show_the_users_templates(tmp_path):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "20240101000000_a.up.sql").write_text(
        'CREATE TABLE {{ index .Options "Namespace" }}.users (id int, email text);\n')
    (tmp_path / "20240102000000_b.up.sql").write_text(
        'CREATE INDEX users_email_idx ON {{ index .Options "Namespace" }}.users (email);\n'
        'ALTER TABLE "{{index .Options "Namespace"}}".users ADD CONSTRAINT u_fk FOREIGN KEY (id) '
        'REFERENCES {{ index .Options "Namespace" }}.users (id);\n')
    found = {f.rule: f for f in run([str(tmp_path)], Config()).all_findings()}
    assert found["MS001"].fix.startswith(
        'CREATE INDEX CONCURRENTLY users_email_idx ON {{ index .Options "Namespace" }}.users (email);')
    assert '{{ index .Options "Namespace" }}.users' in found["MS001"].message
    assert found["MS020"].fix.startswith('ALTER TABLE "{{ index .Options "Namespace" }}".users ADD CONSTRAINT')
    assert "tmpl" not in found["MS001"].fix + found["MS020"].fix + found["MS020"].message + found["MS020"].lock
