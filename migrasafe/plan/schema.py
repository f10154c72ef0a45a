"""The schema a plan starts from: the migration history replayed, as `migrasafe check` replays it.

The catalog keeps what the lock model needs; a plan also needs the text of column defaults and
of index definitions, to give a replacement column the same ones. `Extras` follows those
through the same statements.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT, ObjectType as OT

from ..catalog import Catalog
from ..catalog.apply import apply
from ..catalog.state import Column, Relation
from ..config import Config
from ..model import Migration
from .errors import PlanError

# The key under which the plan's own statements are replayed: everything before is live.
PLANNED = "<planned>"


@dataclass
class Extras:
    defaults: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) → SQL
    index_statements: dict[str, ast.IndexStmt] = field(default_factory=dict)  # qualified index → CREATE INDEX
    # (table, constraint name or "") → the columns a CHECK constraint reads; "" when unnamed.
    checks: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def follow(self, catalog: Catalog, node) -> None:
        """Record what `node` does to defaults and index definitions; call before `apply`."""
        if isinstance(node, ast.CreateStmt) and not isinstance(node, ast.CreateForeignTableStmt):
            table = catalog.qualify(node.relation.schemaname, node.relation.relname)
            for element in node.tableElts or ():
                if isinstance(element, ast.ColumnDef):
                    self._column(table, element)
                elif isinstance(element, ast.Constraint):
                    self._check(table, element)
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == OT.OBJECT_TABLE:
            table = catalog.qualify(node.relation.schemaname, node.relation.relname)
            for cmd in node.cmds or ():
                if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                    self._column(table, cmd.def_)
                elif cmd.subtype == AT.AT_ColumnDefault:
                    if cmd.def_ is None:
                        self.defaults.pop((table, cmd.name), None)
                    else:
                        self.defaults[(table, cmd.name)] = expression_sql(cmd.def_)
                elif cmd.subtype == AT.AT_DropColumn:
                    self.defaults.pop((table, cmd.name), None)
                    for key in [k for k, cols in self.checks.items() if k[0] == table and cmd.name in cols]:
                        del self.checks[key]
                elif cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                    self._check(table, cmd.def_)
                elif cmd.subtype == AT.AT_DropConstraint:
                    self.checks.pop((table, cmd.name), None)
        elif isinstance(node, ast.IndexStmt) and node.idxname:
            table = catalog.qualify(node.relation.schemaname, node.relation.relname)
            self.index_statements[f"{table.split('.')[0]}.{node.idxname}"] = node
        elif isinstance(node, ast.RenameStmt):
            self._rename(catalog, node)
        elif isinstance(node, ast.DropStmt) and node.removeType == OT.OBJECT_TABLE:
            from ..catalog.names import dotted

            for obj in node.objects or ():
                table = catalog.qualify(*dotted(obj))
                for where in (self.defaults, self.checks):
                    for key in [k for k in where if k[0] == table]:
                        del where[key]

    def _column(self, table: str, column: ast.ColumnDef) -> None:
        for con in column.constraints or ():
            if con.contype == CT.CONSTR_DEFAULT and con.raw_expr is not None:
                self.defaults[(table, column.colname)] = expression_sql(con.raw_expr)
            else:
                self._check(table, con)

    def _check(self, table: str, con: ast.Constraint) -> None:
        if con.contype == CT.CONSTR_CHECK and con.raw_expr is not None:
            from .expressions import column_refs

            self.checks[(table, con.conname or f"#{len(self.checks)}")] = column_refs(con.raw_expr)

    def _rename(self, catalog: Catalog, node: ast.RenameStmt) -> None:
        if node.relation is None:
            return
        table = catalog.qualify(node.relation.schemaname, node.relation.relname)
        if node.renameType == OT.OBJECT_COLUMN:
            if (table, node.subname) in self.defaults:
                self.defaults[(table, node.newname)] = self.defaults.pop((table, node.subname))
            for cols in (c for k, c in self.checks.items() if k[0] == table and node.subname in c):
                cols.discard(node.subname)
                cols.add(node.newname)
        elif node.renameType == OT.OBJECT_TABLE:
            new = f"{table.split('.')[0]}.{node.newname}"
            for where in (self.defaults, self.checks):
                for key in [k for k in where if k[0] == table]:
                    where[(new, key[1])] = where.pop(key)
        elif node.renameType == OT.OBJECT_INDEX:
            old = catalog.qualify_index(node.relation.schemaname, node.relation.relname)
            if old in self.index_statements:
                self.index_statements[f"{old.split('.')[0]}.{node.newname}"] = self.index_statements.pop(old)


def expression_sql(node) -> str:
    from pglast.stream import RawStream

    return RawStream()(node)


@dataclass
class Project:
    folder: Path
    display: str  # the folder as the user named it
    format: str
    migrations: list[Migration]
    catalog: Catalog
    extras: Extras
    config: Config
    alembic: object = None  # the Alembic project's layout (sources/alembic/layout.py), when it is one
    django: object = None  # the Django app the plan writes in (plan/django_migrations.py), when it is one

    def table(self, name: str) -> Relation:
        """The live table `name` names (schema optional), or a PlanError saying it does not exist."""
        schema, _, rel = name.rpartition(".")
        qualified = self.catalog.qualify(schema or None, rel)
        found = self.catalog.get(qualified)
        if found is None:
            raise PlanError(f"table {name} does not exist in the schema the migrations in {self.display} build"
                            f"{_close_matches(rel, [r.split('.')[1] for r in self.catalog.relations])}")
        if not found.is_table:
            raise PlanError(f"{qualified} is a {found.kind}, not a table")
        if found.kind == "partitioned" or found.partition_of:
            raise PlanError(f"{qualified} is partitioned or a partition; plans for partitioned tables are not "
                            f"generated (each partition needs its own steps)")
        return found

    def column(self, table: Relation, name: str) -> Column:
        col = table.columns.get(name)
        if col is None:
            raise PlanError(f"column {name} does not exist in table {table.name}"
                            f"{_close_matches(name, list(table.columns))}")
        return col

    def default_of(self, table: str, column: str) -> str | None:
        return self.extras.defaults.get((table, column))


def _close_matches(word: str, names: list[str]) -> str:
    from difflib import get_close_matches

    close = get_close_matches(word, names, n=3)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def load_project(folder: str, config: Config) -> Project:
    """Read the migration folder and replay its history; PlanError when it cannot be used."""
    from ..sources import read_migrations
    from ..sources.detect import detect_format

    path = Path(folder)
    if not path.exists():
        raise PlanError(f"{folder}: no such folder")
    if not path.is_dir():
        raise PlanError(f"{folder}: not a folder (name the folder that holds the migrations)")
    alembic = None
    if config.format in (None, "alembic"):
        from ..sources.alembic.layout import find_layout

        alembic = find_layout(path)
    django = None
    if alembic is None and config.format in (None, "django"):
        from .django_migrations import target_of

        django = target_of(path)
    fmt = "alembic" if alembic is not None else "django" if django is not None else (
        config.format or detect_format(path.resolve()))
    if fmt is None:
        from ..sources.atlas.project import find_project  # atlas.hcl above the directory it names

        fmt = "atlas" if find_project(path.resolve()).dir is not None else None
    if fmt is None:
        raise PlanError(f"{folder} holds no migrations, so their format is unknown: pass --source-format")
    if fmt not in FILE_FORMATS:
        raise PlanError(f"{folder}: plans are not written for {fmt} migrations "
                        f"(supported: {', '.join(FILE_FORMATS)})")
    if alembic is None:
        config.format = fmt
    # A Django app's migrations depend on the other apps': the whole project is read.
    migrations, findings = read_migrations([str(django.root) if django else folder], config)
    problems = [f for f in findings if f.severity == "error"]
    problems += [f for m in migrations for f in m.findings if f.severity == "error"]
    problems += [f for m in migrations for f in _parse_errors(m)]
    if problems:
        first = problems[0]
        raise PlanError(f"{first.path}:{first.line}: {first.message} — the schema cannot be read completely; "
                        f"`migrasafe check {folder}` shows every problem")
    catalog, extras = _seed(config), Extras()
    for migration in migrations:
        if migration.kind == "undo":
            continue
        catalog.migration = migration.unit
        catalog.search_path = ["public"]
        for stmt in migration.statements:
            if stmt.node is not None:
                extras.follow(catalog, stmt.node)
                apply(catalog, stmt.node)
    catalog.migration = PLANNED
    catalog.search_path = ["public"]
    if django is not None:
        path, folder = django.root, str(django.root)
    return Project(folder=path, display=folder, format=fmt, migrations=migrations, catalog=catalog,
                   extras=extras, config=config, alembic=alembic, django=django)


FILE_FORMATS = ("sql", "flyway", "golang-migrate", "dbmate", "diesel", "goose", "sql-migrate", "alembic", "atlas", "sqitch", "liquibase", "prisma", "supabase", "drizzle", "node-pg-migrate", "django")


def _parse_errors(migration: Migration):
    from ..model import Finding

    return [Finding(rule="MS000", name="syntax-error", severity="error", message=s.parse_error or "syntax error",
                    path=migration.path, line=s.line) for s in migration.statements if s.node is None]


def _seed(config: Config) -> Catalog:
    from ..analyse import RuleSelection
    from ..check import seed_catalog
    from ..model import Report

    report = Report(pg_version=config.pg_version)
    catalog = seed_catalog(config, report, RuleSelection(config))
    if report.findings:
        raise PlanError(report.findings[0].message)
    return catalog
