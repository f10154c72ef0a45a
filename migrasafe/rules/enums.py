"""An enum label used in the transaction that added it (MS007).

Since PostgreSQL 12, `ALTER TYPE ... ADD VALUE` may run inside a transaction block, but "the new
value cannot be used until after the transaction has been committed" (ALTER TYPE, Notes; commit
15bc038f9bcd). PostgreSQL 17 and later also allow it when the enum type was created earlier in
the same transaction; 12 to 16 refuse that too. A use is any reading of the label as a value of
the type: a cast, a comparison with or a write to a column of the type, a default. The statement
then fails at deploy with "unsafe use of new value". Before 12, the ADD VALUE itself cannot run
in a transaction (MS004).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT

from ..catalog.names import dotted, referenced_relations, walk
from .base import Context, Hit, detects
from .layout_advice import later_transaction, run_wide_transaction

# PostgreSQL 17 lets a value added to an enum type created in the same transaction be used at
# once (pg_enum.c keeps the types made in the transaction apart); 12 to 16 refuse it too
# (tests/test_enum_values.py shows both on the servers).
TYPE_CREATED_EXEMPT_FROM = 17


def enum_type_name(ctx: Context, type_name) -> str:
    """The qualified name of a user type as the catalog knows it (search_path applied)."""
    return ctx.catalog.qualify_type(*dotted(type_name))


@detects("MS007")
def enum_value_used_before_commit(ctx: Context):
    node = ctx.node
    if isinstance(node, ast.AlterEnumStmt):
        yield from _added_in_run(ctx, node)
        return
    added = ctx.tx.new_enum_values if ctx.tx.open else None
    if not added:
        return
    if ctx.pg_version >= TYPE_CREATED_EXEMPT_FROM:
        added = {k: v for k, v in added.items() if k[0] not in ctx.tx.types_created}
    used = _typed_constants(ctx, node) & set(added)
    for type_name, label in sorted(used)[:1]:
        line = added[(type_name, label)]
        yield Hit(f"uses enum value {label!r} of {type_name}, added on line {line} in the same transaction: "
                  f"PostgreSQL refuses a new enum value until the transaction that added it commits "
                  f"(\"unsafe use of new value\"), so this statement fails at deploy",
                  fix=f"-- commit after the ALTER TYPE ... ADD VALUE, then use {label!r} "
                      f"{later_transaction(ctx)}:\n{ctx.statement.sql};")


def _added_in_run(ctx: Context, node: ast.AlterEnumStmt):
    """ADD VALUE in a transaction the tool shares between every pending migration: a later
    migration of the same deploy cannot use the label (info; a use it can see is MS007 proper)."""
    if not node.newVal or node.oldVal or not ctx.tx.open:
        return
    if not run_wide_transaction(ctx):
        return
    type_name = enum_type_name(ctx, node.typeName)
    yield Hit(f"adds {node.newVal!r} to {type_name} inside the transaction the tool keeps open for every pending "
              f"migration of a deploy: a later migration of the same deploy that uses {node.newVal!r} fails "
              f"(\"unsafe use of new value\") until the whole run commits",
              fix=f"-- use {node.newVal!r} only {later_transaction(ctx)}",
              severity="info")


def _string(node) -> str | None:
    if type(node) is ast.A_Const and isinstance(node.val, ast.String):
        return node.val.sval
    return None


def _assigned(value):
    """The expression a SET item assigns: the matching member of `SET (a, b) = ('x', 'y')`."""
    if type(value) is ast.MultiAssignRef and type(value.source) is ast.RowExpr and value.colno:
        members = value.source.args or ()
        return members[value.colno - 1] if value.colno <= len(members) else None
    return value


def _typed_constants(ctx: Context, node) -> set[tuple[str, str]]:
    """(type, label) for each string constant the statement reads as a value of a user type:
    cast to it, compared with or written to a column of it, or a column default of it."""
    catalog = ctx.catalog
    relations = [r for r in (catalog.get(catalog.qualify(s, n)) for s, n in referenced_relations(node)) if r]

    def column_type(name: str, relation=None) -> str | None:
        for rel in [relation] if relation is not None else relations:
            column = rel.columns.get(name) if rel is not None else None
            if column is not None:
                return column.type.name
        return None

    out: set[tuple[str, str]] = set()

    def add(type_name, value) -> None:
        text = _string(value)
        if type_name and text is not None:
            out.add((type_name, text))

    for item in walk(node):
        kind = type(item)
        if kind is ast.TypeCast and item.typeName is not None:
            add(enum_type_name(ctx, item.typeName.names), item.arg)
        elif kind is ast.A_Expr:
            for column, other in ((item.lexpr, item.rexpr), (item.rexpr, item.lexpr)):
                if type(column) is ast.ColumnRef and isinstance(column.fields[-1], ast.String):
                    type_name = column_type(column.fields[-1].sval)
                    for value in other if isinstance(other, (tuple, list)) else (other,):
                        add(type_name, value)
        elif kind is ast.ColumnDef and item.typeName is not None:
            type_name = enum_type_name(ctx, item.typeName.names)
            add(type_name, item.raw_default)
            for constraint in item.constraints or ():
                add(type_name, getattr(constraint, "raw_expr", None))
    for item in walk(node):  # the statement itself and the data changes in its WITH
        if type(item) not in (ast.UpdateStmt, ast.InsertStmt, ast.AlterTableStmt):
            continue
        target = item.relation
        table = catalog.get(catalog.qualify(target.schemaname, target.relname)) if target is not None else None
        if table is None:
            continue
        if type(item) is ast.UpdateStmt:
            for res in item.targetList or ():
                add(column_type(res.name, table), _assigned(res.val))
        elif type(item) is ast.InsertStmt:
            names = [c.name for c in item.cols] if item.cols else list(table.columns)
            select = item.selectStmt
            rows = getattr(select, "valuesLists", None) or ()
            if not rows and getattr(select, "targetList", None):
                rows = ([t.val for t in select.targetList],)
            for row in rows:
                for name, value in zip(names, row):
                    add(column_type(name, table), value)
        else:
            for cmd in item.cmds or ():
                if cmd.subtype == AT.AT_ColumnDefault:
                    add(column_type(cmd.name, table), cmd.def_)
    return out
