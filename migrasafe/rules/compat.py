"""Expand-contract: changes that break the application version still running during a deploy."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ObjectType as OT

from ..catalog.tables import user_type
from ..catalog.names import dotted, type_spec
from ..locks.types import narrows
from ..plan.sql import ident, qualified, type_sql
from .base import Context, Hit, detects
from .enum_swaps import kept_labels
from .later import named_earlier, renamed_into, vacated_earlier, view_blockers
from .readded import added_again, dropped_and_added


@detects("MS040", ast.RenameStmt)
def rename_column(ctx: Context):
    node = ctx.node
    if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_COLUMN and node.relation is not None:
        table = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
        if ctx.live(table) and not ctx.catalog.column_is_new(table, node.subname):
            old, new = node.subname, node.newname
            rel = ctx.catalog.get(table)
            kind = type_sql(rel.columns[old].type) if rel is not None and old in rel.columns else "<type>"
            yield Hit(f"renaming {table}.{old} to {new} breaks the running application, which still uses {old}",
                      fix=(f"ALTER TABLE {qualified(table)} ADD COLUMN {ident(new)} {kind};\n"
                           f"-- trigger writing {old} into {new} (and back) while both versions run; batched backfill;\n"
                           f"-- deploy code reading {new}; then ALTER TABLE {qualified(table)} DROP COLUMN {ident(old)};"),
                      relation=table, span=ctx.span_of("RENAME"))


@detects("MS041", ast.RenameStmt, ast.AlterObjectSchemaStmt)
def rename_table(ctx: Context):
    node = ctx.node
    if isinstance(node, ast.AlterObjectSchemaStmt):
        yield from _set_schema(ctx, node)
        return
    if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_TABLE and node.relation is not None:
        table = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
        if ctx.catalog.index_in_place_of_table(node.relation.schemaname, node.relation.relname):
            return  # an index, which ALTER TABLE renames too: queries do not name indexes
        if ctx.live(table) and renamed_into(ctx, table) is None:  # not a swap, which leaves the name taken
            schema = table.split(".")[0]
            yield Hit(f"renaming {table} breaks the running application, which still queries it by its old name",
                      fix=(f"{ctx.statement.sql};\n" + _view_step(ctx, table, f"{schema}.{node.newname}") +
                           f"\n-- after the deploy that uses {node.newname}: DROP VIEW {qualified(table)};"),
                      relation=table, span=ctx.span_of("RENAME"))


def _view_step(ctx: Context, old: str, new: str) -> str:
    """The CREATE VIEW under the old name, where the migration lets it stand: a view selecting
    every column of the table makes a later type change or drop of one of them fail, so after
    the last such statement."""
    view = f"CREATE VIEW {qualified(old)} AS SELECT * FROM {qualified(new)};"
    blockers = view_blockers(ctx, new)
    if not blockers:
        return f"{view}  -- same transaction; simple views accept writes"
    lines = ", ".join(str(line) for line in blockers)
    return (f"-- after line {blockers[-1]}, still in the same transaction: a view over {new} makes the "
            f"column type change or drop on line{'s' if len(blockers) > 1 else ''} {lines} fail\n"
            f"{view}  -- simple views accept writes")


def _set_schema(ctx: Context, node: ast.AlterObjectSchemaStmt):
    if node.objectType != OT.OBJECT_TABLE or node.relation is None:
        return
    table = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
    if (table in ctx.catalog.relations or not node.missing_ok) and ctx.live(table):
        new = f"{node.newschema}.{table.split('.')[1]}"
        yield Hit(f"moving {table} to schema {node.newschema} renames it to {new}: the running application "
                  f"still queries {table}",
                  fix=f"{ctx.statement.sql};\n{_view_step(ctx, table, new)}\n-- drop the view after the deploy",
                  relation=table, span=ctx.span_of("SET SCHEMA"))


@detects("MS042", ast.AlterTableStmt, subcommands=(AT.AT_DropColumn,))
def drop_column(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    if table is None:
        return
    rel = ctx.catalog.get(table)
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_DropColumn and cmd.missing_ok and rel is not None and rel.columns_known \
                and cmd.name not in rel.columns:
            continue  # DROP COLUMN IF EXISTS of a column the history already dropped: a no-op
        if cmd.subtype != AT.AT_DropColumn or ctx.catalog.column_is_new(table, cmd.name):
            continue
        added = added_again(ctx, table, cmd)
        if added is not None:
            # The name survives, so the running code keeps working against the column added again.
            hit = dropped_and_added(ctx, table, rel, cmd.name, *added)
            if hit is not None:
                yield hit
            continue
        moved = _renamed_into_place(ctx, table, cmd.name)
        if moved is not None:
            yield _dropped_and_replaced(ctx, table, rel, cmd.name, *moved)
            continue
        yield Hit(f"dropping {table}.{cmd.name} breaks running code that still selects or writes it",
                  fix=(f"-- first deploy code that no longer reads or writes {cmd.name} "
                       f"(ORMs: mark it ignored), then drop it in a later migration"),
                  relation=table, span=ctx.span_of("DROP"))


def _renamed_into_place(ctx: Context, table: str, column: str) -> tuple | None:
    """A later RENAME COLUMN of the same migration that gives another column the dropped one's
    name, before any commit: (that column, its line). The hand-made type change of ORMs' SQL."""
    if not ctx.tx.open:
        return None  # the DROP commits on its own: the running code meets no column first
    statements = ctx.migration.statements
    at = next((i for i, s in enumerate(statements) if s is ctx.statement), len(statements))
    for later in statements[at + 1:]:
        node = later.node
        if isinstance(node, ast.TransactionStmt):
            return None  # committed in between: the gap without the column was seen on its own
        if isinstance(node, ast.RenameStmt) and node.renameType == OT.OBJECT_COLUMN and node.relation is not None \
                and node.newname == column \
                and ctx.catalog.qualify(node.relation.schemaname, node.relation.relname) == table:
            return node.subname, later.line
        if isinstance(node, ast.AlterTableStmt) and node.relation is not None \
                and ctx.catalog.qualify(node.relation.schemaname, node.relation.relname) == table \
                and any(c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)
                        and c.def_.colname == column for c in node.cmds or ()):
            return None  # added again first: not a rename into its place
    return None


def _dropped_and_replaced(ctx: Context, table: str, rel, column: str, source: str, line: int) -> Hit:
    old = rel.columns[column].type if rel is not None and column in rel.columns else None
    new = rel.columns[source].type if rel is not None and source in rel.columns else None
    if old is not None and new is not None and old != new:
        change = (f": the running code, which still reads and writes {column}, finds {type_sql(new)} values "
                  f"where it had {type_sql(old)}")
        severity = "error"
    else:
        change = f"; the running code keeps using {column}, now holding {source}'s values"
        severity = "warning"
    return Hit(f"dropping {table}.{column} and renaming {source} to {column} on line {line} replaces the column "
               f"under the running application{change}",
               fix=(f"-- expand-contract: keep {column} while the running code uses it; keep {source} in sync "
                    f"with a trigger, backfill it in batches, deploy code that reads {source}, then drop "
                    f"{column} in a later migration"),
               relation=table, span=ctx.span_of("DROP"), severity=severity)


@detects("MS043", ast.DropStmt)
def drop_table(ctx: Context):
    node = ctx.node
    if isinstance(node, ast.DropStmt) and node.removeType == OT.OBJECT_TABLE:
        dropped = [ctx.catalog.qualify(*dotted(obj)) for obj in node.objects or ()]
        for table in dropped:
            if ctx.live(table) and (table in ctx.catalog.relations or not node.missing_ok) \
                    and renamed_into(ctx, table) is None and named_earlier(ctx, table) is None:
                # A swap leaves the running code a table by the name it queries; a table renamed
                # earlier in this migration was never queried by its new name (MS041's finding).
                yield Hit(f"dropping live table {table} breaks running code and takes {_drop_locks(ctx, table, dropped)}",
                          fix="-- deploy code that no longer uses the table first; drop it in a later migration",
                          relation=table, span=ctx.span_of("DROP"))


def _drop_locks(ctx: Context, table: str, dropped: list[str]) -> str:
    """The locks of the lock model, on the dropped table and on the other tables the statement
    locks, each said with why it is locked: which tables depend on the foreign keys still in place,
    so a key dropped earlier leaves its table out."""
    modes: dict[str, list[str]] = {}
    own = "AccessExclusiveLock"
    for lock in ctx.impact.locks:
        if lock.relation == table:
            own = lock.mode
            continue
        rel = ctx.catalog.get(lock.relation)
        if lock.relation in ctx.catalog.indexes or (rel is not None and rel.kind == "sequence"
                                                    and rel.owned_by in dropped):
            continue  # goes with a dropped table: not a table of its own to wait on
        modes.setdefault(lock.mode, []).append(lock.relation)

    def named(relations):
        return _join([f"{r} ({why})" if (why := _why_locked(ctx, table, r, dropped)) else r for r in relations])

    said = f"{own} on it" + (f" and on {named(modes.pop(own))}" if own in modes else "")
    return said + "".join(f", and {mode} on {named(relations)}" for mode, relations in modes.items())


def _why_locked(ctx: Context, table: str, other: str, dropped: list[str]) -> str:
    if other in dropped:
        return "which the statement drops too"
    target = ctx.catalog.get(other)
    for source in [table] + [d for d in dropped if d != table]:
        whose, rel = "it" if source == table else source, ctx.catalog.get(source)
        if rel is not None and other in rel.partitions:
            return f"a partition of {whose}"
        if rel is not None and any(c.kind == "f" and c.references == other for c in rel.constraints.values()):
            return f"which {whose} references"
        if target is not None and any(c.kind == "f" and c.references == source for c in target.constraints.values()):
            return f"whose foreign key to {whose} the drop removes"
    return ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@detects("MS044", ast.AlterTableStmt, subcommands=(AT.AT_AlterColumnType,))
def incompatible_type_change(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    rel = ctx.catalog.get(table) if table else None
    if rel is None:
        return
    for cmd in node.cmds or ():
        if (cmd.subtype == AT.AT_AlterColumnType and cmd.name in rel.columns
                and not ctx.catalog.column_is_new(table, cmd.name)):
            old = rel.columns[cmd.name].type
            new = type_spec(cmd.def_.typeName, user_type(ctx.catalog))
            # An enum swap that keeps every label in order: each value written is one of the new type's.
            if narrows(old, new) and kept_labels(ctx.catalog, old, new) is None:
                yield Hit(f"{table}.{cmd.name} changes from {old} to {new}: values the running application "
                          f"writes may no longer fit or mean the same",
                          fix=(f"-- expand-contract: ADD COLUMN {ident(cmd.name + '_new')} {type_sql(new)}; "
                               f"sync with a trigger; "
                               f"backfill in batches; switch the code; drop {cmd.name}"),
                          relation=table, span=ctx.span_of("TYPE"))


@detects("MS045", ast.AlterTableStmt, subcommands=(AT.AT_SetNotNull, AT.AT_AddConstraint))
def set_not_null_breaks_writers(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    if table is None:
        return
    rel = ctx.catalog.get(table)
    for cmd in node.cmds or ():
        column = _not_null_target(cmd)
        if column is None:
            continue
        if rel is not None and column in rel.columns and rel.columns[column].not_null:
            continue
        if rel is not None and rel.not_null_proven(column):
            continue
        if ctx.catalog.column_is_new(table, column) and vacated_earlier(ctx, table, column) is None:
            if not new_column_without_default(ctx, table, column):
                continue  # the running code never names it, and its INSERTs get the default
            col = rel.columns[column]
            # The running code never names it, so none of its INSERTs can give it a value. The scan
            # of SET NOT NULL (MS024's) is said here: the fix below removes both.
            scan = (f"; and SET NOT NULL scans all of {table} under AccessExclusiveLock, which the fix avoids too"
                    if cmd.subtype == AT.AT_SetNotNull and table in ctx.impact.scans else "")
            yield Hit(f"NOT NULL on {table}.{column}, which {_adder(ctx)} adds without a default: the running "
                      f"application does not know the column, so every one of its INSERTs into {table} fails "
                      f"from the commit on{scan}",
                      fix=(f"-- in place of the ADD COLUMN and this SET NOT NULL, add it with a default:\n"
                           f"ALTER TABLE {qualified(table)} ADD COLUMN {ident(column)} {type_sql(col.type)} "
                           f"NOT NULL DEFAULT <constant>;\n"
                           f"-- or keep {column} nullable in this migration; once deployed code always writes it, "
                           f"in a later migration:\n"
                           f"-- CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE in a transaction of its own, "
                           f"then SET NOT NULL"),
                      relation=table, span=ctx.span_of("NOT NULL"), severity="error")
            continue
        yield Hit(f"NOT NULL on {table}.{column}: the running application may still write NULLs there",
                  fix=(f"-- deploy code that always writes {column} first; then enforce it with "
                       f"CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL"),
                  relation=table, span=ctx.span_of("NOT NULL"))


def _adder(ctx: Context) -> str:
    """What added a column the catalog counts as new: this migration, or the larger unit its
    reader deploys it in (a popx release), whose other files may have added it."""
    migration = ctx.migration
    unit = migration.unit
    return "this migration" if unit == migration.meta.get("key", migration.path) else f"this {unit}"


def new_column_without_default(ctx: Context, table: str, column: str) -> bool:
    """A column this migration adds with neither a default nor a generation expression: NOT NULL
    on it fails every INSERT of the running application, which MS045 reports as an error; MS024
    leaves its SET NOT NULL to that finding, whose fix (a default, or NOT NULL later) also avoids
    the scan."""
    rel = ctx.catalog.get(table)
    if rel is None or column not in rel.columns or not ctx.catalog.column_is_new(table, column):
        return False
    col = rel.columns[column]
    # A name taken from another column earlier (renamed away, dropped) is one the running code writes.
    return not (col.has_default or col.generated) and vacated_earlier(ctx, table, column) is None


def _not_null_target(cmd) -> str | None:
    """The column a SET NOT NULL or an ADD CONSTRAINT ... NOT NULL (even NOT VALID) enforces:
    both reject NULLs in new rows at once."""
    if cmd.subtype == AT.AT_SetNotNull:
        return cmd.name
    con = cmd.def_
    if cmd.subtype == AT.AT_AddConstraint and isinstance(con, ast.Constraint) and con.contype.name == "CONSTR_NOTNULL":
        return con.keys[0].sval if con.keys else None
    return None


def _omitted_value_still_fits(ctx: Context, table: str, column: str) -> bool:
    """Does the column get a default again, or lose its NOT NULL, before anyone sees it without
    a default? The same ALTER dropping NOT NULL is atomic with it; a later statement of the same
    transaction counts too, since until commit the ALTER's lock keeps everyone else waiting, so
    the usual drop / retype / set-again of an enum column breaks nobody."""
    if any(cmd.subtype == AT.AT_DropNotNull and cmd.name == column for cmd in ctx.node.cmds or ()):
        return True  # an omitted value becomes NULL, which the column now accepts
    if not ctx.tx.open:
        return False  # each statement commits on its own: the gap is visible
    statements = ctx.migration.statements
    at = next((i for i, s in enumerate(statements) if s is ctx.statement), len(statements))
    for later in statements[at + 1:]:
        node = later.node
        if isinstance(node, ast.TransactionStmt):
            return False  # COMMIT or ROLLBACK before it: the gap was visible
        if isinstance(node, ast.AlterTableStmt) and node.relation is not None \
                and ctx.catalog.qualify(node.relation.schemaname, node.relation.relname) == table:
            for cmd in node.cmds or ():
                if cmd.subtype == AT.AT_ColumnDefault and cmd.name == column and cmd.def_ is not None:
                    return True
                if cmd.subtype == AT.AT_DropNotNull and cmd.name == column:
                    return True
    return False


@detects("MS046", ast.AlterTableStmt, subcommands=(AT.AT_ColumnDefault,))
def drop_default_on_not_null(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    rel = ctx.catalog.get(table) if table else None
    if rel is None:
        return
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_ColumnDefault and cmd.def_ is None:
            col = rel.columns.get(cmd.name)
            if col is not None and col.not_null and col.has_default and not _omitted_value_still_fits(ctx, table, cmd.name):
                if col.added_in is not None and col.added_in == ctx.catalog.migration \
                        and vacated_earlier(ctx, table, cmd.name) is None:
                    # Added by this migration: the running application does not know the column,
                    # so every one of its INSERTs omits it (MS026's case, reached in two steps).
                    yield Hit(f"dropping the default of NOT NULL column {table}.{cmd.name}, which {_adder(ctx)} "
                              f"adds: the running application does not know the column, so every one of its "
                              f"INSERTs into {table} fails from the commit on",
                              fix=(f"-- keep the default in this migration; drop it in a later one, once deployed "
                                   f"code always sets {cmd.name}"),
                              relation=table, span=ctx.span_of("DROP DEFAULT"), severity="error")
                    continue
                yield Hit(f"dropping the default of NOT NULL column {table}.{cmd.name}: the running "
                          f"application's INSERTs that omit it start failing",
                          fix=f"-- deploy code that always sets {cmd.name} first, then drop the default",
                          relation=table, span=ctx.span_of("DROP DEFAULT"))
