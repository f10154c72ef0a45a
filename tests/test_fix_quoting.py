"""Suggested SQL names the objects the migration changed, spelled so PostgreSQL finds them: a
mixed-case name (Prisma's "Workflow") keeps its quotes, a plain one is left bare."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pglast import ast, parser

from migrasafe.api import check

sys.path.insert(0, str(Path(__file__).parent))
from corpus_cases import all_cases, run_case  # noqa: E402

# The fixes' placeholders, replaced by something the parser accepts.
_PLACEHOLDERS = {"<type>": "text", "<new type>": "text", "<constant>": "0", "<expr>": "0", "<pk>": "id",
                 "<constraint>": "c", "<primary key>": "id", ":lo": "1", ":hi": "2"}


def _parsed(fix: str):
    for placeholder, value in _PLACEHOLDERS.items():
        fix = fix.replace(placeholder, value)
    return [raw.stmt for raw in parser.parse_sql(fix)]


def _targets(node) -> list[ast.RangeVar]:
    """The relations a fix statement changes or reads as its subject."""
    if isinstance(node, (ast.AlterTableStmt, ast.IndexStmt, ast.UpdateStmt, ast.RefreshMatViewStmt)):
        return [node.relation]
    if isinstance(node, ast.ViewStmt):
        return [node.view]
    if isinstance(node, ast.VacuumStmt):
        return [rel.relation for rel in node.rels or ()]
    return []


def _fixes(report):
    for result in report.results:
        for statement in result.statements:
            for finding in statement.findings:
                if finding.fix:
                    yield finding


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.name)
def test_every_corpus_fix_parses_and_names_tables_of_the_history(case):
    history = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                        for p in case.migrations.rglob("*") if p.is_file()).lower()
    for finding in _fixes(run_case(case)):
        try:
            nodes = _parsed(finding.fix)
        except parser.ParseError as err:
            pytest.fail(f"{finding.rule} fix does not parse ({err}):\n{finding.fix}")
        for node in nodes:
            for rel in _targets(node):
                assert rel.relname.lower() in history, (finding.rule, rel.relname, finding.fix)


PRISMA_BASE = '''CREATE TYPE "WorkflowKind" AS ENUM ('A', 'B');
CREATE TABLE "Workflow" (
    "id" TEXT NOT NULL,
    "Priority" TEXT,
    "externalSourceId" TEXT,
    "Status" TEXT,
    "createdAt" TIMESTAMP(3),
    CONSTRAINT "Workflow_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "ExternalSource" ("id" TEXT NOT NULL, CONSTRAINT "ExternalSource_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Workflow_Status_idx" ON "Workflow"("Status");
CREATE MATERIALIZED VIEW "WorkflowTotals" AS SELECT "Status", count(*) FROM "Workflow" GROUP BY 1;
'''

# One statement per file, in this order (the renames last): each finding's fix is read on its own.
PRISMA_CHANGES = {
    "MS020": 'ALTER TABLE "Workflow" ADD CONSTRAINT "Workflow_externalSourceId_fkey" FOREIGN KEY '
             '("externalSourceId") REFERENCES "ExternalSource"("id") ON DELETE SET NULL ON UPDATE CASCADE;',
    "MS021": 'ALTER TABLE "Workflow" ADD CONSTRAINT "Workflow_PausedCheck" CHECK ("Status" <> \'paused\');',
    "MS022": 'ALTER TABLE "Workflow" ADD CONSTRAINT "Workflow_Status_key" UNIQUE ("Status");',
    "MS024": 'ALTER TABLE "Workflow" ALTER COLUMN "externalSourceId" SET NOT NULL;',
    "MS026": 'ALTER TABLE "Workflow" ADD COLUMN "taskIdentifier" TEXT NOT NULL;',
    "MS010": 'ALTER TABLE "Workflow" ADD COLUMN "sampleKey" DOUBLE PRECISION DEFAULT random();',
    "MS011": 'ALTER TABLE "Workflow" ALTER COLUMN "createdAt" TYPE TEXT;',
    "MS042": 'ALTER TABLE "Workflow" DROP COLUMN "Priority", ADD COLUMN "Priority" "WorkflowKind";',
    "MS027": 'REFRESH MATERIALIZED VIEW "WorkflowTotals";',
    "MS003": 'REINDEX TABLE "Workflow";',
    "MS002": 'DROP INDEX "Workflow_Status_idx";',
    "MS040": 'ALTER TABLE "Workflow" RENAME COLUMN "Status" TO "State";',
    "MS041": 'ALTER TABLE "Workflow" RENAME TO "Flow";',
}
# The names each fix must spell, as PostgreSQL reads them after parsing.
EXPECTED_NAMES = {
    "MS020": {"Workflow", "Workflow_externalSourceId_fkey"},
    "MS021": {"Workflow", "Workflow_PausedCheck"},
    "MS022": {"Workflow", "Workflow_Status_key", "Status"},
    "MS024": {"Workflow", "externalSourceId", "externalSourceId_not_null"},
    "MS026": {"Workflow", "taskIdentifier"},
    "MS010": {"Workflow", "sampleKey", "id"},
    "MS011": {"Workflow", "createdAt_new"},
    "MS042": {"Workflow", "Priority", "WorkflowKind"},  # an ORM's enum keeps its case in the type
    "MS040": {"Workflow", "State"},
    "MS041": {"Workflow", "Flow"},
    "MS027": {"WorkflowTotals"},
    "MS003": {"Workflow"},
    "MS002": {"Workflow_Status_idx"},
}


def _names(node) -> set[str]:
    """Every identifier in a parsed statement: relations, columns, constraints, indexes."""
    found: set[str] = set()

    def visit(value):
        if isinstance(value, ast.RangeVar):
            found.add(value.relname)
        elif isinstance(value, ast.String):
            found.add(value.sval)
        if isinstance(value, ast.Node):
            for attr in value:
                child = getattr(value, attr)
                if isinstance(child, str) and attr in ("name", "conname", "colname", "idxname", "relname",
                                                       "indexname", "newname", "subname"):
                    found.add(child)
                else:
                    visit(child)
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    visit(node)
    return found


@pytest.fixture(scope="module")
def prisma_fixes(tmp_path_factory):
    root = tmp_path_factory.mktemp("prisma") / "prisma" / "migrations"
    root.mkdir(parents=True)
    (root / "migration_lock.toml").write_text('provider = "postgresql"\n')
    (root / "20240101000000_base").mkdir()
    (root / "20240101000000_base" / "migration.sql").write_text(PRISMA_BASE)
    for n, sql in enumerate(PRISMA_CHANGES.values(), start=2):
        folder = root / f"202401{n:02d}000000_change"
        folder.mkdir()
        (folder / "migration.sql").write_text(sql + "\n")
    fixes: dict[str, str] = {}
    for finding in _fixes(check([str(root)])):
        fixes.setdefault(finding.rule, finding.fix)
    return fixes


@pytest.mark.parametrize("rule", sorted(PRISMA_CHANGES))
def test_fix_on_mixed_case_schema_quotes_names(prisma_fixes, rule):
    fix = prisma_fixes.get(rule)
    assert fix, f"no {rule} finding with a fix"
    nodes = _parsed(fix)
    names = set().union(*(_names(n) for n in nodes))
    missing = EXPECTED_NAMES[rule] - names
    assert not missing, f"{rule}: {missing} not named in\n{fix}"
    # No mixed-case name is left bare in the SQL (outside comments), where PostgreSQL would fold it.
    code = "\n".join(line.split("--")[0] for line in fix.splitlines())
    for name in EXPECTED_NAMES[rule]:
        if name != name.lower():
            assert not re.search(rf'(?<![\w"]){re.escape(name)}(?![\w"])', code), f"{name} unquoted in\n{fix}"


def test_fix_names_an_enum_under_the_name_a_swap_left_it(tmp_path):
    # Prisma's enum swap: the column moves to X_new, then X_new is renamed to X.
    (tmp_path / "001_base.sql").write_text(
        'CREATE TYPE "RunStatus" AS ENUM (\'A\', \'B\');\n'
        'CREATE TABLE "Run" ("id" bigint PRIMARY KEY, "status" "RunStatus");\n')
    (tmp_path / "002_swap.sql").write_text(
        'BEGIN;\nCREATE TYPE "RunStatus_new" AS ENUM (\'A\');\n'
        'ALTER TABLE "Run" ALTER COLUMN "status" TYPE "RunStatus_new" USING ("status"::text::"RunStatus_new");\n'
        'ALTER TYPE "RunStatus" RENAME TO "RunStatus_old";\nALTER TYPE "RunStatus_new" RENAME TO "RunStatus";\n'
        'DROP TYPE "RunStatus_old";\nCOMMIT;\n')
    (tmp_path / "003_rename.sql").write_text('ALTER TABLE "Run" RENAME COLUMN "status" TO "state";\n')
    (fix,) = [f.fix for f in _fixes(check([str(tmp_path)])) if f.rule == "MS040"]
    (add,) = _parsed(fix.splitlines()[0])
    assert [n.sval for n in add.cmds[0].def_.typeName.names] == ["public", "RunStatus"], fix
