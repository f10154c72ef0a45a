"""What depends on a column or a table: indexes, constraints and views a plan must carry over or
must refuse to break."""
from __future__ import annotations

from dataclasses import dataclass

from pglast import ast
from pglast.visitors import Visitor

from ..catalog.state import Constraint, Index, Relation
from .errors import PlanError
from .expressions import render
from .schema import Project
from .sql import ident, object_name, qualified, table_part

FK_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass
class ColumnIndex:
    index: Index
    constraint: Constraint | None  # the unique constraint the index backs, if any
    statement: ast.IndexStmt | None  # its CREATE INDEX, when the history has one


def indexes_on(project: Project, table: Relation, column: str) -> list[ColumnIndex]:
    out = []
    for name in table.indexes:
        index = project.catalog.indexes.get(name)
        if index is None or index.table != table.name:
            continue
        statement = project.extras.index_statements.get(name)
        reads = _index_columns(statement) if statement is not None else set(index.columns)
        if column not in reads:
            continue
        backing = next((c for c in table.constraints.values() if c.index == name), None)
        out.append(ColumnIndex(index, backing, statement))
    return out


def _index_columns(statement: ast.IndexStmt) -> set[str]:
    from .expressions import column_refs

    names = {e.name for e in statement.indexParams or () if e.name}
    for part in (*(e.expr for e in statement.indexParams or () if e.expr is not None),
                 *(e.name for e in statement.indexIncludingParams or () if e.name), statement.whereClause):
        if isinstance(part, str):
            names.add(part)
        elif part is not None:
            names |= column_refs(part)
    return names


def index_definition(entry: ColumnIndex, old: str, new: str) -> str:
    """The part of CREATE INDEX after the table name, reading `new` where it read `old`."""
    if entry.statement is None:
        if entry.index.partial or "(expr)" in entry.index.columns:
            raise PlanError(f"index {entry.index.name} reads {old} through an expression or a predicate the "
                            f"history does not show; recreate it by hand")
        return "(" + ", ".join(ident(new if c == old else c) for c in entry.index.columns) + ")"
    import copy

    statement = copy.deepcopy(entry.statement)

    class Replace(Visitor):
        def visit_IndexElem(self, ancestors, elem):
            if elem.name == old:
                elem.name = new

        def visit_ColumnRef(self, ancestors, ref):
            fields = list(ref.fields or ())
            if fields and isinstance(fields[-1], ast.String) and fields[-1].sval == old:
                fields[-1] = ast.String(sval=new)
                ref.fields = tuple(fields)

    Replace()(statement)
    statement.indexIncludingParams = tuple(
        ast.IndexElem(name=new if e.name == old else e.name) if e.name else e
        for e in statement.indexIncludingParams or ()) or None
    statement.idxname = "placeholder_name"
    statement.relation = ast.RangeVar(relname="placeholder_table", inh=True, relpersistence="p")
    statement.concurrent = False
    statement.unique = False
    text = render(statement)
    marker = " ON placeholder_table "
    at = text.find(marker)
    if at < 0:  # pragma: no cover - RawStream always prints ON <table>
        raise PlanError(f"cannot reproduce index {entry.index.name}")
    return text[at + len(marker):]


def renamed_object(name: str, old: str, new: str, table: Relation, taken) -> str:
    """`users_name_idx` → `users_full_name_idx`; a free name either way."""
    base = name.split(".")[-1]
    candidate = base.replace(old, new) if old in base else object_name(base, new)
    candidate = object_name(candidate)
    schema = table.name.split(".")[0]
    suffix = 1
    result = candidate
    while f"{schema}.{result}" in taken or result in table.constraints:
        suffix += 1
        result = object_name(candidate, suffix=str(suffix))
    return result


def foreign_keys_from(table: Relation, column: str) -> list[Constraint]:
    return [c for c in table.constraints.values() if c.kind == "f" and column in c.columns]


def foreign_keys_to(project: Project, table: Relation, column: str | None = None) -> list[tuple[Relation, Constraint]]:
    """Foreign keys of other tables (and this one) that point at the table, or at the column."""
    key = table.primary_key
    out = []
    for child, con in table.referencing(project.catalog):
        targets = con.ref_columns or key
        if column is None or column in targets:
            out.append((child, con))
    return out


def foreign_key_sql(con: Constraint, columns: tuple[str, ...], name: str) -> str:
    refs = f" ({', '.join(ident(c) for c in con.ref_columns)})" if con.ref_columns else ""
    text = (f"CONSTRAINT {ident(name)} FOREIGN KEY ({', '.join(ident(c) for c in columns)}) "
            f"REFERENCES {qualified(con.references)}{refs}")
    if con.on_delete in FK_ACTIONS:
        text += f" ON DELETE {FK_ACTIONS[con.on_delete]}"
    if con.on_update in FK_ACTIONS:
        text += f" ON UPDATE {FK_ACTIONS[con.on_update]}"
    return text


def checks_on(project: Project, table: Relation, column: str) -> list[str]:
    """CHECK constraints that read the column, other than a CHECK (column IS NOT NULL)."""
    out = []
    for (owner, name), columns in project.extras.checks.items():
        if owner != table.name or column not in columns:
            continue
        con = table.constraints.get(name)
        if con is not None and con.not_null_of == column and columns == {column}:
            continue
        out.append(name if not name.startswith("#") else "(unnamed)")
    return out


def views_on(project: Project, table: Relation) -> list[str]:
    return sorted(r.name for r in project.catalog.relations.values()
                  if r.kind in ("view", "matview") and table.name in r.depends_on)


def refuse_key_column(project: Project, table: Relation, column: str, operation: str) -> None:
    """Primary keys, referenced columns, identity and generated columns are not planned."""
    col = table.columns[column]
    if any(c.kind == "p" and column in c.columns for c in table.constraints.values()):
        raise PlanError(f"{table.name}.{column} is part of the primary key; {operation} of a primary key column "
                        f"is not planned (foreign keys, replication identity and the application's row "
                        f"identity all depend on it)")
    referencing = foreign_keys_to(project, table, column)
    if referencing:
        names = ", ".join(f"{child.name}.{con.name}" for child, con in referencing)
        raise PlanError(f"foreign keys point at {table.name}.{column} ({names}); {operation} is not planned "
                        f"for a referenced column")
    if col.identity or col.generated:
        kind = "an identity" if col.identity else "a generated"
        raise PlanError(f"{table.name}.{column} is {kind} column; {operation} is not planned for it")


def refuse_checks(project: Project, table: Relation, column: str, operation: str) -> None:
    checks = checks_on(project, table, column)
    if checks:
        raise PlanError(f"CHECK constraints read {table.name}.{column} ({', '.join(checks)}); the plan would drop "
                        f"them with the old column. Drop them first, or {operation} by hand")


def table_name(table: Relation) -> str:
    return table_part(table.name)
