"""The run's statements in order, each probed against the rows it will meet.

The schema is replayed from the start as the check replayed it (the `--schema` dumps, then every
migration, context ones included), so a statement's table and columns are those the catalog
knows at that point. Only the migrations the report shows are probed; the context ones are
taken to be in the database already. Findings join the statement's own, so every output format
shows them.
"""
from __future__ import annotations

from dataclasses import dataclass

from pglast import ast

from ..rules.lock_line import lock_line
from ..catalog.apply import apply
from ..check import seed_catalog
from ..config import Config
from ..model import AnalysedStatement, Migration, Report
from ..rules.base import keyword_span
from ..selection import RuleSelection, make_finding
from . import findings, statements
from .probes import Outcome
from .rows import Rows
from .sampling import DEFAULT_SAMPLE_ABOVE, sample_for
from .session import ProbeError, ProbeTimeout, Session
from .suppression import suppress_data_findings
from .tables import ABSENT, Tables

DATA_CHANGES = (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.TruncateStmt, ast.MergeStmt, ast.CopyStmt)


@dataclass
class Options:
    timeout: float = 5.0  # seconds per probe query
    sample_above: int = DEFAULT_SAMPLE_ABOVE  # rows (reltuples) above which a table is sampled


class Walk:
    def __init__(self, session: Session, report: Report, config: Config, options: Options):
        self.session, self.report, self.config, self.options = session, report, config, options
        self.selection = RuleSelection(config)
        self.tables = Tables(session)
        self.not_valid: dict[tuple[str, str], ast.Constraint] = {}
        self.catalog = None
        self.migration: Migration | None = None
        self.analysed: AnalysedStatement | None = None
        self.statement = None  # the statement probed now (one of a DO block's, or the analysed one)
        self.added: dict[int, int] = {}  # statement index → findings added to it, in this migration

    # -- the walk -------------------------------------------------------------------------------

    def run(self) -> None:
        base = seed_catalog(self.config, Report(pg_version=self.config.pg_version), self.selection)
        catalogs = {}
        for result in self.report.results:
            migration = result.migration
            history = migration.meta.get("history", "")
            self.catalog = catalogs.get(history)
            if self.catalog is None:
                self.catalog = catalogs[history] = base.copy()
            self.catalog.migration = migration.unit
            self.catalog.search_path = ["public"]
            self.migration = migration
            probing = not migration.meta.get("context")
            self.added = {}
            for analysed in result.statements:
                self.analysed = analysed
                node = analysed.statement.node
                if node is None:
                    continue
                if isinstance(node, ast.DoStmt):
                    self.do_block(analysed, probing)
                else:
                    self.one(analysed.statement, node, probing)
                analysed.statement.release()
            suppress_data_findings(result, self.added)

    def do_block(self, analysed: AnalysedStatement, probing: bool) -> None:
        from ..doblocks import read_block

        block = read_block(analysed.statement)
        if block is None:
            return
        if probing and (block.dynamic_lines or block.unread_lines or block.error):
            self.tables.changed_anywhere(analysed.statement.line)
        for inner in block.statements:
            if inner.node is not None:
                self.one(inner, inner.node, probing, in_block=True)

    def one(self, statement, node, probing: bool, in_block: bool = False) -> None:
        self.statement = statement
        if probing:
            try:
                if isinstance(node, DATA_CHANGES):
                    self.tables.change_rows(node, statement.line, self.qualify, in_block=in_block)
                elif self.runs_own_code(node):
                    self.tables.changed_anywhere(statement.line)
                elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
                    statements.alter_table(self, node)
                elif isinstance(node, ast.IndexStmt):
                    statements.unique_index(self, node)
            except ProbeTimeout:
                self.emit("MS068", findings.timed_out("looking up its table", self.options.timeout), None)
            except ProbeError as err:
                self.emit("MS069", findings.not_probed("looking up its table", str(err)), None)
            self.tables.follow_ddl(node, self.qualify)
        apply(self.catalog, node)

    def runs_own_code(self, node) -> bool:
        """CALL, or a SELECT of a function the migrations define: either may change any rows."""
        if isinstance(node, ast.CallStmt):
            return True
        if not isinstance(node, ast.SelectStmt):
            return False
        from ..catalog.names import function_name, walk

        return any(isinstance(n, ast.FuncCall) and function_name(n) in self.catalog.functions for n in walk(node))

    # -- what the statement handlers use -----------------------------------------------------------

    def qualify(self, rv: ast.RangeVar) -> str:
        return self.catalog.qualify(rv.schemaname, rv.relname)

    def resolve_type(self, name: str) -> str:
        """An unqualified type name as the catalog's search_path finds it (an enum, a domain)."""
        for schema in self.catalog.search_path:
            if f"{schema}.{name}" in self.catalog.types or f"{schema}.{name}" in self.catalog.domains:
                return f"{schema}.{name}"
        return name

    def rows_for(self, table: str) -> Rows | None:
        """The rows view of a table of the database; None for a table the run made, or one
        the database lacks (said once)."""
        found = self.tables.get(table)
        if found is ABSENT and table not in self.tables.absent_reported:
            self.tables.absent_reported.add(table)
            self.emit("MS069", findings.not_probed(
                f"statements on {table}", f"the database has no table {table} (is it behind the migrations before "
                "these, or another database?)"), None)
        return found if isinstance(found, Rows) else None

    def primary_key_of(self, table: str) -> list[str]:
        rel = self.catalog.get(table)
        for con in rel.constraints.values() if rel is not None else ():
            if con.kind == "p":
                return list(con.columns)
        rows = self.tables.rows(table)
        return [c.name for c in rows.info.key] if rows is not None else []

    def database_constraint(self, rows: Rows, name: str) -> ast.Constraint | None:
        """A NOT VALID constraint of the database that VALIDATE checks now (None: validated
        already, or not there)."""
        from ..plan.sql import literal

        found = self.session.query(
            f"SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint WHERE conrelid = "
            f"to_regclass({literal(rows.info.sql_name)}) AND conname = {literal(name)}")
        if not found or found[0][1]:
            return None
        return statements.parse_constraint(found[0][0])

    def blocked(self, rows: Rows, columns, what: str, word: str | None) -> bool:
        """A probe that would read columns the view cannot show is not run, and said so."""
        missing = [c for c in columns if c not in rows.types]
        opaque = [c for c in columns if c in rows.opaque]
        if missing:
            self.not_probed(what, f"{rows.info.name} has no column {', '.join(missing)} in the database or the run",
                            word)
        elif opaque:
            self.not_probed(what, f"the values of {', '.join(opaque)} after the earlier statements of the run "
                            "cannot be computed from the database", word)
        return bool(missing or opaque)

    def probe(self, rows: Rows, what: str, word: str | None, run) -> None:
        if rows.empty:
            return  # emptied earlier in the run: no row can make it fail
        sample = sample_for(rows.info.rows, self.options.sample_above)
        try:
            outcome: Outcome | None = run(sample)
        except ProbeTimeout:
            self.emit("MS068", findings.timed_out(what, self.options.timeout), word, rows.info.name)
            return
        except ProbeError as err:
            self.not_probed(what, f"the probe query failed: {err}", word)
            return
        if outcome is None:
            if sample is not None:
                self.emit("MS069", findings.sampled_clean(what, sample), word, rows.info.name)
            return
        message = findings.failure_message(what, outcome)
        caveat = findings.caveats(rows)
        severity = None
        if rows.unmodelled:
            severity = "warning"  # the rows may be fixed by a change the view cannot show
        if caveat:
            message += f"; {caveat}"
        self.emit(outcome.rule, message, word, rows.info.name, fix=findings.FIXES.get(outcome.rule, ""),
                  severity=severity)

    def not_probed(self, what: str, why: str, word: str | None) -> None:
        self.emit("MS069", findings.not_probed(what, why), word)

    def emit(self, rule: str, message: str, word: str | None, relation: str | None = None, fix: str = "",
             severity: str | None = None) -> None:
        analysed, statement = self.analysed, self.statement
        inner = statement is not analysed.statement
        span = None
        if word and not inner:
            span = keyword_span(statement.sql, word)
        finding = make_finding(rule, message, path=statement.origin_path or self.migration.path, line=statement.line,
                               column=statement.column, fix=fix, lock=lock_line(analysed, relation),
                               statement_index=analysed.statement.index, span=span, selection=self.selection,
                               severity=severity)
        if finding is not None:
            analysed.findings += [finding]  # a statement without findings shares its empty list
            index = analysed.statement.index
            self.added[index] = self.added.get(index, 0) + 1


def check_data(report: Report, config: Config, dsn: str, options: Options | None = None) -> None:
    options = options or Options()
    with Session(dsn, max(1, int(options.timeout * 1000))) as session:
        Walk(session, report, config, options).run()
