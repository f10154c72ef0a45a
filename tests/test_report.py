import json

import pytest

from migrasafe.model import (
    AnalysedStatement,
    Finding,
    Impact,
    Lock,
    Migration,
    MigrationResult,
    Report,
    Statement,
)
from migrasafe.report import render, tool_version
from migrasafe.report import text as text_report
from migrasafe.report.json import report_to_json
from migrasafe.verdict import exit_code, verdict

INDEX_SQL = "CREATE INDEX orders_customer_idx ON orders (customer_id)"
ALTER_SQL = "ALTER TABLE orders\n    ADD COLUMN note text,\n    ADD COLUMN total numeric,\n    ADD COLUMN paid boolean,\n    ALTER COLUMN id TYPE bigint"


def finding(rule="MS001", name="index-without-concurrently", severity="error", line=4, column=1, **kw):
    defaults = dict(message="Building the index blocks writes to public.orders.", path="migrations/V3__idx.sql")
    defaults.update(kw)
    return Finding(rule=rule, name=name, severity=severity, line=line, column=column, **defaults)


def analysed(statement, findings=(), locks=(), rewrites=()):
    return AnalysedStatement(
        statement=statement,
        impact=Impact(locks=list(locks), rewrites=list(rewrites)),
        in_transaction=True,
        findings=list(findings),
    )


def sample_report():
    index = Statement(index=0, sql=INDEX_SQL, line=4, column=1, end_line=4)
    alter = Statement(index=1, sql=ALTER_SQL, line=6, column=1, end_line=10)
    index_finding = finding(
        span=(0, 12),
        statement_index=0,
        lock="ShareLock on public.orders until commit — blocks writes; scans the table",
        fix="CREATE INDEX CONCURRENTLY orders_customer_idx\n    ON orders (customer_id)",
    )
    type_span_start = ALTER_SQL.index("ALTER COLUMN")
    rewrite_finding = finding(
        rule="MS004", name="column-type-change", line=10, column=5,
        message="Changing int to bigint rewrites public.orders.",
        span=(type_span_start, len(ALTER_SQL)), statement_index=1,
    )
    no_span = finding(rule="MS020", name="add-column", severity="info", line=6, message="Adds three columns.", statement_index=1)
    migration_level = finding(
        rule="MS050", name="mixed-transaction", severity="warning", line=1, column=1,
        message="Mixes transactional and non-transactional statements.",
    )
    migration = Migration(
        path="migrations/V3__idx.sql", format="flyway", version="3",
        transaction_reason="Flyway wraps each versioned migration in a transaction",
    )
    result = MigrationResult(
        migration=migration,
        statements=[
            analysed(index, [index_finding], locks=[Lock("public.orders", "ShareLock")]),
            analysed(alter, [rewrite_finding, no_span], locks=[Lock("public.orders", "AccessExclusiveLock")], rewrites=["public.orders"]),
        ],
        findings=[migration_level],
    )
    return Report(pg_version=16, results=[result])


GOLDEN = """\
migrations/V3__idx.sql:1:1: MS050 mixed-transaction [warning]
  Mixes transactional and non-transactional statements.

migrations/V3__idx.sql:4:1: MS001 index-without-concurrently [error]
  CREATE INDEX orders_customer_idx ON orders (customer_id)
  ^^^^^^^^^^^^
  lock: ShareLock on public.orders until commit — blocks writes; scans the table
  Building the index blocks writes to public.orders.
  fix: CREATE INDEX CONCURRENTLY orders_customer_idx
           ON orders (customer_id)

migrations/V3__idx.sql:6:1: MS020 add-column [info]
  ALTER TABLE orders
  ^^^^^^^^^^^^^^^^^^
      ADD COLUMN note text,
      ADD COLUMN total numeric,
  …
  Adds three columns.

migrations/V3__idx.sql:10:5: MS004 column-type-change [error]
  …
      ALTER COLUMN id TYPE bigint
      ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  Changing int to bigint rewrites public.orders.

read 1 history: migrations (flyway, 1 migration)
2 errors, 1 warning, 1 info in 1 migration (2 statements) — verdict: fail
"""


def test_text_report_golden():
    assert render(sample_report()) == GOLDEN


def test_text_has_no_color_codes_unless_asked():
    assert "\x1b[" not in render(sample_report())
    colored = render(sample_report(), color=True)
    assert "\x1b[1;31mMS001\x1b[0m" in colored
    assert colored.count("\x1b[") > 5


def test_text_span_across_lines_underlines_each_line():
    sql = "ALTER TABLE t\n  ADD COLUMN c int NOT NULL"
    start = sql.index("t")
    statement = Statement(index=0, sql=sql, line=1, column=1, end_line=2)
    f = finding(line=1, column=13, span=(start, len(sql)), path="m.sql")
    report = Report(16, [MigrationResult(Migration("m.sql", "sql", "1"), [analysed(statement, [f])])])
    lines = render(report).splitlines()
    assert lines[1:5] == [
        "  ALTER TABLE t",
        "              ^",
        "    ADD COLUMN c int NOT NULL",
        "    ^^^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_text_cuts_very_long_lines_around_the_span():
    sql = "INSERT INTO t VALUES " + ", ".join(f"({i})" for i in range(2000)) + " RETURNING id"
    start = sql.index("RETURNING")
    statement = Statement(index=0, sql=sql, line=1, column=1, end_line=1)
    f = finding(line=1, span=(start, start + len("RETURNING")), path="m.sql")
    report = Report(16, [MigrationResult(Migration("m.sql", "sql", "1"), [analysed(statement, [f])])])
    shown, carets = render(report).splitlines()[1:3]
    assert len(shown) < 200
    assert shown[carets.index("^") : carets.index("^") + 9] == "RETURNING"


def test_run_level_findings_come_first_and_without_location():
    report = sample_report()
    report.findings.append(Finding("MS091", "unknown-rule", "warning", "ignore names no rule MS999", "", 0))
    out = render(report)
    assert out.startswith("MS091 unknown-rule [warning]\n  ignore names no rule MS999\n")


def test_context_migrations_are_not_reported():
    report = sample_report()
    context = sample_report().results[0]
    context.migration.path = "migrations/V1__base.sql"
    context.migration.meta["context"] = True
    report.results.insert(0, context)

    out = render(report)
    assert "V1__base.sql" not in out
    assert out.endswith("2 errors, 1 warning, 1 info in 1 migration (2 statements) — verdict: fail\n")

    data = report_to_json(report)
    assert [m["path"] for m in data["migrations"]] == ["migrations/V3__idx.sql"]


def test_context_findings_do_not_decide_the_verdict():
    report = sample_report()
    report.results[0].migration.meta["context"] = True
    assert verdict(report) == "pass"
    assert exit_code(report, "info") == 0


def test_json_shape_and_key_order():
    report = sample_report()
    report.results[0].migration.meta["revision"] = "ae1027a6acf"
    data = json.loads(render(report, "json"))

    assert list(data) == ["tool", "version", "pg_version", "verdict", "findings", "migrations", "skipped"]
    assert data["skipped"] == []
    assert data["tool"] == "migrasafe"
    assert data["version"] == tool_version()
    assert data["pg_version"] == 16
    assert data["verdict"] == "fail"

    (migration,) = data["migrations"]
    assert list(migration) == [
        "path", "format", "version", "revision", "in_transaction", "transaction_reason", "findings", "statements",
    ]
    assert migration["format"] == "flyway"
    assert migration["revision"] == "ae1027a6acf"
    assert migration["transaction_reason"].startswith("Flyway wraps")
    assert migration["findings"] == [
        {
            "rule": "MS050", "name": "mixed-transaction", "severity": "warning",
            "message": "Mixes transactional and non-transactional statements.", "fix": "",
            "line": 1, "column": 1,
        }
    ]

    first, second = migration["statements"]
    assert list(first) == ["index", "line", "column", "sql", "locks", "rewrites", "findings"]
    assert first["sql"] == INDEX_SQL
    assert first["locks"] == [{"relation": "public.orders", "mode": "ShareLock"}]
    assert first["rewrites"] == []
    assert list(first["findings"][0]) == ["rule", "name", "severity", "message", "fix"]
    assert second["rewrites"] == ["public.orders"]
    assert [f["rule"] for f in second["findings"]] == ["MS004", "MS020"]


def test_json_revision_only_when_known():
    data = report_to_json(sample_report())
    assert "revision" not in data["migrations"][0]


def test_json_run_level_findings_carry_their_location():
    report = sample_report()
    report.findings.append(Finding("MS091", "unknown-rule", "warning", "no rule MS999", "pyproject.toml", 12, 1))
    (run_finding,) = report_to_json(report)["findings"]
    assert run_finding["path"] == "pyproject.toml"
    assert run_finding["line"] == 12


@pytest.mark.parametrize(
    "severities, expected",
    [([], "pass"), (["info"], "pass"), (["info", "warning"], "warn"), (["warning", "error"], "fail")],
)
def test_verdict(severities, expected):
    report = Report(16, findings=[finding(severity=s) for s in severities])
    assert verdict(report) == expected


@pytest.mark.parametrize(
    "severities, fail_on, code",
    [
        (["warning"], "warning", 1),
        (["warning"], "error", 0),
        (["info"], "warning", 0),
        (["info"], "info", 1),
        (["error"], "never", 0),
        ([], "info", 0),
    ],
)
def test_exit_code(severities, fail_on, code):
    report = Report(16, findings=[finding(severity=s) for s in severities])
    assert exit_code(report, fail_on) == code


def test_exit_code_is_2_when_any_input_is_broken():
    report = sample_report()
    report.results[0].migration.broken = True
    assert exit_code(report, "never") == 2


def test_output_work_is_per_statement_not_per_finding(monkeypatch):
    built = []

    class CountingLines(text_report.StatementLines):
        def __init__(self, sql):
            built.append(sql)
            super().__init__(sql)

    monkeypatch.setattr(text_report, "StatementLines", CountingLines)
    monkeypatch.setattr(text_report, "GROUP_OVER", 10**9)  # every finding shown, none grouped
    rows = [f"INSERT INTO t VALUES ({i})" for i in range(5000)]
    sql = "\n".join(rows)
    starts = [0]
    for row in rows:
        starts.append(starts[-1] + len(row) + 1)
    statements = []
    for index in range(3):
        statement = Statement(index=index, sql=sql, line=1 + index * 5000, column=1, end_line=5000 + index * 5000)
        findings = [
            finding(path="big.sql", line=statement.line + k, span=(starts[k], starts[k] + 6), statement_index=index)
            for k in range(0, 5000, 10)
        ]
        statements.append(analysed(statement, findings))
    report = Report(16, [MigrationResult(Migration("big.sql", "sql", "1"), statements)])

    out = render(report)
    assert len(built) == 3
    assert out.count("MS001 index-without-concurrently") == 1500
    assert "  INSERT INTO t VALUES (4990)\n  ^^^^^^\n" in out


def test_findings_follow_migration_order_then_position():
    def result(path, lines):
        statement = Statement(index=0, sql="SELECT 1", line=1, column=1, end_line=1)
        findings = [finding(path=path, line=n, statement_index=0) for n in lines]
        return MigrationResult(Migration(path, "sql", "1"), [analysed(statement, findings)])

    report = Report(16, [result("b.sql", [9, 2]), result("a.sql", [5])])
    heads = [line.split(": ")[0] for line in render(report).splitlines() if "MS001" in line]
    assert heads == ["b.sql:2:1", "b.sql:9:1", "a.sql:5:1"]
