from migrasafe.model import AnalysedStatement, Finding, Impact, Migration, MigrationResult
from migrasafe.parse import split_statements
from migrasafe.suppress import apply_suppressions, line_comments

PATH = "migrations/V7__orders.sql"


def checked(text: str, rules_by_statement: dict[int, list[str]], migration_findings=()) -> MigrationResult:
    """A result for `text` where statement N has a finding for each rule in rules_by_statement[N]."""
    statements = []
    for statement in split_statements(text):
        findings = [
            Finding(rule=rule, name=NAMES[rule], severity="error", message="m", path=PATH,
                    line=statement.line, column=statement.column, statement_index=statement.index)
            for rule in rules_by_statement.get(statement.index, [])
        ]
        statements.append(AnalysedStatement(statement, Impact(), True, findings=findings))
    migration = Migration(path=PATH, format="flyway", version="7", text=text)
    return MigrationResult(migration, statements, list(migration_findings))


NAMES = {"MS001": "index-without-concurrently", "MS002": "add-column-with-volatile-default", "MS010": "missing-lock-timeout"}


def remaining(result: MigrationResult) -> list[tuple[int, str]]:
    return [(s.statement.index, f.rule) for s in result.statements for f in s.findings]


def reported(result: MigrationResult) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in result.findings]


def run(text, rules_by_statement, migration_findings=()):
    result = checked(text, rules_by_statement, migration_findings)
    apply_suppressions(result, text)
    return result


def test_directive_on_the_statement_line():
    text = "CREATE INDEX ix ON t (c); -- migrasafe: ignore MS001 -- t has 40 rows\n"
    result = run(text, {0: ["MS001", "MS010"]})
    assert remaining(result) == [(0, "MS010")]
    assert result.findings == []


def test_directive_on_the_line_above():
    text = "SELECT 1;\n-- migrasafe: ignore MS001 -- t has 40 rows\nCREATE INDEX ix ON t (c);\n"
    result = run(text, {1: ["MS001"]})
    assert remaining(result) == []
    assert result.findings == []


def test_directive_accepts_rule_names_and_lists():
    text = (
        "-- migrasafe: ignore index-without-concurrently, MS010 -- maintenance window\n"
        "CREATE INDEX ix ON t (c);\n"
    )
    result = run(text, {0: ["MS001", "MS010", "MS002"]})
    assert remaining(result) == [(0, "MS002")]


def test_directive_inside_a_multiline_statement():
    text = "ALTER TABLE t\n  ADD COLUMN c int, -- migrasafe: ignore MS002 -- empty table\n  ADD COLUMN d int;\n"
    result = run(text, {0: ["MS002"]})
    assert remaining(result) == []


def test_directive_two_lines_above_does_not_apply():
    text = "-- migrasafe: ignore MS001 -- small table\n\nCREATE INDEX ix ON t (c);\n"
    result = run(text, {0: ["MS001"]})
    assert remaining(result) == [(0, "MS001")]
    assert reported(result) == [("MS092", 1)]


def test_trailing_directive_does_not_reach_the_next_statement():
    text = "CREATE INDEX a ON t (c); -- migrasafe: ignore MS001 -- tiny\nCREATE INDEX b ON t (d);\n"
    result = run(text, {0: ["MS001"], 1: ["MS001"]})
    assert remaining(result) == [(1, "MS001")]
    assert result.findings == []


def test_ignore_file_applies_everywhere():
    text = (
        "CREATE INDEX a ON t (c);\n"
        "SELECT 1;\n"
        "CREATE INDEX b ON t (d);\n"
        "-- migrasafe: ignore-file MS001 -- runs before the service starts\n"
    )
    migration_level = Finding("MS001", NAMES["MS001"], "error", "m", PATH, 1, statement_index=None)
    result = run(text, {0: ["MS001"], 2: ["MS001", "MS010"]}, [migration_level])
    assert remaining(result) == [(2, "MS010")]
    assert result.findings == []


def test_statement_directive_covers_migration_findings_tied_to_that_statement():
    text = "SELECT 1;\nVACUUM t; -- migrasafe: ignore MS010 -- autocommit runner\n"
    tied = Finding("MS010", NAMES["MS010"], "warning", "m", PATH, 2, statement_index=1)
    other = Finding("MS010", NAMES["MS010"], "warning", "m", PATH, 1, statement_index=0)
    result = run(text, {}, [tied, other])
    assert result.findings == [other]


def test_directive_without_reason_is_not_applied():
    text = "CREATE INDEX ix ON t (c); -- migrasafe: ignore MS001\n"
    result = run(text, {0: ["MS001"]})
    assert remaining(result) == [(0, "MS001")]
    (warning,) = result.findings
    assert (warning.rule, warning.name, warning.severity) == ("MS093", "suppression-without-reason", "warning")
    assert (warning.path, warning.line, warning.column) == (PATH, 1, 27)


def test_empty_reason_counts_as_missing():
    text = "-- migrasafe: ignore MS001 --   \nCREATE INDEX ix ON t (c);\n"
    result = run(text, {0: ["MS001"]})
    assert remaining(result) == [(0, "MS001")]
    assert reported(result) == [("MS093", 1)]


def test_unused_directive_is_reported():
    text = "SELECT 1;\n\n-- migrasafe: ignore MS002 -- old reason\nCREATE INDEX ix ON t (c);\n"
    result = run(text, {1: ["MS001"]})
    (info,) = result.findings
    assert (info.rule, info.name, info.severity) == ("MS092", "unused-suppression", "info")
    assert (info.path, info.line) == (PATH, 3)
    assert remaining(result) == [(1, "MS001")]


def test_partly_used_directive_names_the_unused_rules():
    text = "CREATE INDEX ix ON t (c); -- migrasafe: ignore MS001,MS002 -- tiny table\n"
    result = run(text, {0: ["MS001"]})
    (info,) = result.findings
    assert info.rule == "MS092"
    assert "MS002" in info.message and "MS001" not in info.message.split(":")[-1]


def test_unused_ignore_file_is_reported():
    text = "-- migrasafe: ignore-file MS010 -- reviewed\nSELECT 1;\n"
    result = run(text, {})
    assert reported(result) == [("MS092", 1)]


def test_directive_inside_string_literal_is_not_a_directive():
    text = (
        "INSERT INTO notes VALUES ('-- migrasafe: ignore MS001 -- not a comment');\n"
        "CREATE INDEX ix ON t (c);\n"
    )
    result = run(text, {0: ["MS001"], 1: ["MS001"]})
    assert remaining(result) == [(0, "MS001"), (1, "MS001")]
    assert result.findings == []


def test_comment_scan_skips_strings_identifiers_and_block_comments():
    text = (
        "SELECT 'it''s -- no', E'\\' -- no', \"odd -- name\", $$ -- no $$, $fn$ -- no\n $fn$;\n"
        "/* outer /* nested -- no */ still -- no */ SELECT 1; -- yes one\n"
        "SELECT $1 -- yes two\n"
    )
    comments = line_comments(text)
    assert [(c.line, c.text.strip()) for c in comments] == [(3, "yes one"), (4, "yes two")]
    assert comments[1].column == 11


def test_no_directives_leaves_the_result_alone():
    text = "-- an ordinary comment\nCREATE INDEX ix ON t (c);\n"
    result = run(text, {0: ["MS001"]})
    assert remaining(result) == [(0, "MS001")]
    assert result.findings == []
