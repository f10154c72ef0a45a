"""Which probes a statement needs, read from its parse tree and the schema replayed before it.

ALTER TABLE is taken subcommand by subcommand, each against the rows as the subcommands before
it leave them (ADD COLUMN ... DEFAULT, then SET NOT NULL of it); CREATE UNIQUE INDEX on its own.
"""
from __future__ import annotations

from pglast import ast, parse_sql
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT, ObjectType as OT

from ..catalog.names import column_names, strval, type_spec
from ..plan.sql import literal
from ..rules.base import expression
from . import casts, probes
from .rows import Rows, serial_type
from .tables import Made

KEYWORDS = {CT.CONSTR_CHECK: "CHECK", CT.CONSTR_FOREIGN: "FOREIGN KEY", CT.CONSTR_UNIQUE: "UNIQUE",
            CT.CONSTR_PRIMARY: "PRIMARY KEY", CT.CONSTR_NOTNULL: "NOT NULL"}


def alter_table(ctx, node: ast.AlterTableStmt) -> None:
    if node.objtype != OT.OBJECT_TABLE:
        return
    table = ctx.qualify(node.relation)
    probed = any(cmd.subtype in PROBED for cmd in node.cmds or ())
    # Only a statement that could fail on the rows says so when its table is not in the database.
    rows = ctx.rows_for(table) if probed else ctx.tables.rows(table)
    if rows is None:
        return
    for cmd in node.cmds or ():
        handler = HANDLERS.get(cmd.subtype)
        if handler is not None:
            handler(ctx, table, rows, cmd)


def add_column(ctx, table: str, rows: Rows, cmd) -> None:
    coldef: ast.ColumnDef = cmd.def_
    name = coldef.colname
    if name in rows.types:  # ADD COLUMN IF NOT EXISTS of a column the table has: nothing happens
        return
    kind = serial_type(coldef) or expression(coldef.typeName)
    rows.add_column(coldef, kind if ctx.session.type_exists(kind) else None)
    if name in rows.opaque:
        ctx.not_probed(f"ADD COLUMN {name}", f"its type {kind} is not in the database", "ADD COLUMN")
        return
    constraints = list(coldef.constraints or ())
    defaulted = any(c.contype in (CT.CONSTR_DEFAULT, CT.CONSTR_IDENTITY, CT.CONSTR_GENERATED) for c in constraints)
    if (coldef.is_not_null or any(c.contype == CT.CONSTR_NOTNULL for c in constraints)) and not defaulted \
            and serial_type(coldef) is None:
        what = f"ADD COLUMN {name} NOT NULL without a default on {table}"
        ctx.probe(rows, what, "NOT NULL", lambda s: probes.populated(ctx.session, rows, s, name))
    for con in constraints:
        if con.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN, CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY):
            word = "REFERENCES" if con.contype == CT.CONSTR_FOREIGN else KEYWORDS[con.contype]
            constraint(ctx, table, rows, con, default_columns=(name,), label=f"ADD COLUMN {name} {word}", word=word)


def add_constraint(ctx, table: str, rows: Rows, cmd) -> None:
    con = cmd.def_
    if not isinstance(con, ast.Constraint):
        return
    if con.skip_validation and con.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN, CT.CONSTR_NOTNULL):
        if con.conname:  # VALIDATE names it; an unnamed one is found in the database, if at all
            ctx.not_valid[(table, con.conname)] = con
        return
    label = f"ADD CONSTRAINT {con.conname}" if con.conname else "ADD"
    constraint(ctx, table, rows, con, label=f"{label} {KEYWORDS.get(con.contype, '')}".rstrip())


def validate(ctx, table: str, rows: Rows, cmd) -> None:
    con = ctx.not_valid.pop((table, cmd.name), None)
    if con is None:
        con = ctx.database_constraint(rows, cmd.name)
    if con is not None:
        constraint(ctx, table, rows, con, label=f"VALIDATE CONSTRAINT {cmd.name}", word="VALIDATE")


def constraint(ctx, table: str, rows: Rows, con: ast.Constraint, default_columns=(), label: str = "",
               word: str | None = None) -> None:
    word = word or KEYWORDS.get(con.contype)
    what = f"{label} on {table}"
    session = ctx.session
    if con.contype == CT.CONSTR_CHECK and con.is_enforced and con.raw_expr is not None:
        condition = expression(con.raw_expr)
        used = sorted(referenced_columns(con.raw_expr))
        if ctx.blocked(rows, used, what, word):
            return
        ctx.probe(rows, what, word, lambda s: probes.check(session, rows, s, condition, used))
    elif con.contype == CT.CONSTR_NOTNULL:
        for name in column_names(con.keys) or default_columns:
            if not ctx.blocked(rows, [name], what, word):
                ctx.probe(rows, what, word, lambda s, n=name: probes.not_null(session, rows, s, n, "MS060"))
    elif con.contype == CT.CONSTR_FOREIGN and con.is_enforced and con.pktable is not None:
        foreign_key(ctx, table, rows, con, default_columns, what, word)
    elif con.contype in (CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY):
        columns = list(column_names(con.keys) or default_columns)
        if con.indexname:
            index = ctx.catalog.indexes.get(ctx.catalog.qualify_index(None, con.indexname))
            if con.contype != CT.CONSTR_PRIMARY or index is None:
                return  # the index exists and is unique already
            columns = list(index.columns)
        if not columns or ctx.blocked(rows, columns, what, word):
            return
        if con.contype == CT.CONSTR_PRIMARY:
            ctx.probe(rows, what, word, lambda s: probes.key_nulls(session, rows, s, columns))
        if not con.indexname:
            keys = [(c, probes.column(rows, c)) for c in columns]
            ctx.probe(rows, what, word, lambda s: probes.duplicates(
                session, rows, s, keys, None, nulls_distinct=not con.nulls_not_distinct))


def foreign_key(ctx, table: str, rows: Rows, con: ast.Constraint, default_columns, what: str, word: str) -> None:
    columns = list(column_names(con.fk_attrs) or default_columns)
    parent = ctx.qualify(con.pktable)
    parent_columns = list(column_names(con.pk_attrs)) or ctx.primary_key_of(parent)
    if not columns or len(parent_columns) != len(columns):
        ctx.not_probed(what, f"the referenced columns of {parent} are not known", word)
        return
    if ctx.blocked(rows, columns, what, word):
        return
    found = ctx.tables.get(parent)
    if isinstance(found, Rows):
        if ctx.blocked(found, parent_columns, what, word):
            return
        parent_source = found.source(alias=probes.PARENT)
    elif isinstance(found, Made) and not found.inserted:
        parent_source = None  # made by the run and never filled: every key is missing from it
    else:
        return
    full = con.fk_matchtype == "f"
    ctx.probe(rows, what, word, lambda s: probes.orphans(ctx.session, rows, s, columns, parent_source,
                                                         parent_columns, parent, full))


def set_not_null(ctx, table: str, rows: Rows, cmd) -> None:
    rel = ctx.catalog.get(table)
    column = rel.columns.get(cmd.name) if rel is not None else None
    if column is not None and column.not_null:
        return  # already NOT NULL: nothing is checked
    what = f"SET NOT NULL on {table}.{cmd.name}"
    if not ctx.blocked(rows, [cmd.name], what, "SET NOT NULL"):
        ctx.probe(rows, what, "SET NOT NULL", lambda s: probes.not_null(ctx.session, rows, s, cmd.name, "MS060"))


def alter_type(ctx, table: str, rows: Rows, cmd) -> None:
    name, coldef = cmd.name, cmd.def_
    target = expression(coldef.typeName)
    what = f"ALTER COLUMN {name} TYPE {target} on {table}"
    using = coldef.raw_default
    used = sorted((referenced_columns(using) if using is not None else set()) | {name})
    if ctx.blocked(rows, used, what, "TYPE"):
        rows.change_type(name, None, None)
        return
    resolve = ctx.resolve_type
    value, explicit = casts.converted_value(rows, name, coldef.typeName, using, resolve)
    spec = type_spec(coldef.typeName, resolve)
    enum = ctx.catalog.types.get(spec.name) if not spec.array else None
    in_database = ctx.session.type_exists(target)
    labels = enum.values if enum is not None else (ctx.session.enum_labels(target) if in_database and not spec.array
                                                   else None)
    session = ctx.session
    if labels is not None:
        rel = ctx.catalog.get(table)
        old = rel.columns.get(name) if rel is not None else None
        from_enum = (old.type.name in ctx.catalog.types if old is not None
                     else session.enum_labels(rows.types[name] or "") is not None)
        rule = "MS066" if from_enum else "MS065"
        ctx.probe(rows, what, "TYPE", lambda s: casts.enum_conversion(session, rows, s, value, labels, target, rule))
        same = in_database and session.enum_labels(target) == labels
        rows.change_type(name, f"({value})::{target}" if same else f"({value})::text", target if same else None)
        return
    if not in_database:
        ctx.not_probed(what, f"the type {target} is not in the database", "TYPE")
        rows.change_type(name, None, None)
        return

    def run(sample):
        text_target = session.value(f"SELECT typcategory FROM pg_type WHERE oid = to_regtype({literal(target)})") == "S"
        if session.major >= 16 and not (explicit and text_target) and casts.is_text_like(session, rows, value):
            return casts.text_conversion(session, rows, sample, value, target)
        return casts.cast_conversion(session, rows, sample, value, target)

    ctx.probe(rows, what, "TYPE", run)
    rows.change_type(name, f"({value})::{target}", target)


def drop_column(ctx, table: str, rows: Rows, cmd) -> None:
    rows.drop_column(cmd.name)


def drop_constraint(ctx, table: str, rows: Rows, cmd) -> None:
    ctx.not_valid.pop((table, cmd.name), None)


PROBED = (AT.AT_AddColumn, AT.AT_AddConstraint, AT.AT_ValidateConstraint, AT.AT_SetNotNull, AT.AT_AlterColumnType)
HANDLERS = {
    AT.AT_AddColumn: add_column,
    AT.AT_AddConstraint: add_constraint,
    AT.AT_ValidateConstraint: validate,
    AT.AT_SetNotNull: set_not_null,
    AT.AT_AlterColumnType: alter_type,
    AT.AT_DropColumn: drop_column,
    AT.AT_DropConstraint: drop_constraint,
}


def unique_index(ctx, node: ast.IndexStmt) -> None:
    if not node.unique or node.relation is None:
        return
    table = ctx.qualify(node.relation)
    if node.if_not_exists and node.idxname and ctx.catalog.qualify_index(node.relation.schemaname, node.idxname) \
            in ctx.catalog.indexes:
        return
    rows = ctx.rows_for(table)
    if rows is None:
        return
    keys, used = [], set()
    for elem in node.indexParams or ():
        if elem.name:
            keys.append((elem.name, probes.column(rows, elem.name)))
            used.add(elem.name)
        elif elem.expr is not None:
            text = expression(elem.expr)
            keys.append((text, text))
            used |= referenced_columns(elem.expr)
    predicate = expression(node.whereClause) if node.whereClause is not None else None
    if node.whereClause is not None:
        used |= referenced_columns(node.whereClause)
    what = f"CREATE UNIQUE INDEX{' ' + node.idxname if node.idxname else ''} on {table}"
    if not keys or ctx.blocked(rows, sorted(used), what, "UNIQUE"):
        return
    ctx.probe(rows, what, "UNIQUE", lambda s: probes.duplicates(
        ctx.session, rows, s, keys, predicate, nulls_distinct=not node.nulls_not_distinct))


def parse_constraint(definition: str) -> ast.Constraint | None:
    """A constraint as pg_get_constraintdef() prints it, parsed back into its node."""
    try:
        stmt = parse_sql(f"ALTER TABLE migrasafe_probe ADD CONSTRAINT migrasafe_probe {definition}")[0].stmt
    except Exception:  # noqa: BLE001 - a definition pglast cannot read is simply not probed
        return None
    cmd = stmt.cmds[0]
    return cmd.def_ if isinstance(cmd.def_, ast.Constraint) else None


def referenced_columns(node) -> set[str]:
    from ..catalog.names import walk

    return {strval(n.fields[-1]) for n in walk(node) if isinstance(n, ast.ColumnRef)
            and n.fields and isinstance(n.fields[-1], ast.String)}
