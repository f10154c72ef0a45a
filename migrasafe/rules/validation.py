"""Constraints validated while a strong lock is held."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..catalog.constraint_names import unnamed_constraint_name
from ..catalog.names import strval
from ..plan.sql import ident, qualified
from .base import Context, Hit, detects, edited, expression, keyword_span, render
from .column_adds import added_columns, column_checks, column_span, split_constraint_fix, validated_keys
from .compat import new_column_without_default
from .indexes import layout_name, outside_advice
from .later import later_key_on
from .layout_advice import later_transaction


def _constraint_cmds(ctx: Context, *types):
    table = ctx.altered_live_table()
    if table is None:
        return None, []
    cmds = [c for c in ctx.node.cmds or ()
            if c.subtype == AT.AT_AddConstraint and isinstance(c.def_, ast.Constraint) and c.def_.contype in types]
    return table, cmds


def _constraint_names(ctx: Context, table: str) -> dict[int, str | None]:
    """id(constraint) → its name, for every constraint the statement adds: its own, or the one
    PostgreSQL gives it, which depends on the names already taken, the statement's own included.
    The statement's table constraints are named in order, then those inside its ADD COLUMNs
    (PostgreSQL's transformAlterTableStmt queues those last)."""
    cmds = ctx.node.cmds or ()
    pairs = [(None, c.def_) for c in cmds if c.subtype == AT.AT_AddConstraint and isinstance(c.def_, ast.Constraint)]
    pairs += [(c.def_.colname, con) for c in cmds if c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)
              for con in c.def_.constraints or ()]
    names, chosen = {}, []
    for column, con in pairs:
        name = unnamed_constraint_name(ctx.catalog, table, con, column, chosen)
        names[id(con)] = name
        if name:
            chosen.append(name)
    return names


def _names(names) -> str:
    return ", ".join(n or "(unnamed)" for n in names)


def _not_valid_fix(ctx: Context, table: str, cmds, columns=()) -> str:
    """The statement with every constraint it validates added NOT VALID (a column's taken out of
    the column and added on the table), then one VALIDATE per constraint: each in a transaction
    of its own, so that no validation holds its lock through the others' scans."""
    if len(cmds) == 1 and not columns and len(ctx.node.cmds) == 1:
        # The constraint ends the statement, and NOT VALID may follow any constraint attribute.
        statements = [f"{ctx.statement.sql} NOT VALID;"]
    else:
        # The other commands stay: one may be the DROP CONSTRAINT that makes room for this one.
        replaced = {id(c): edited(c, def_=edited(c.def_, skip_validation=True, initially_valid=False)) for c in cmds}
        for cmd, cons in _by_command(columns):
            kept = tuple(c for c in cmd.def_.constraints or () if not any(c is con for con in cons))
            replaced[id(cmd)] = edited(cmd, def_=edited(cmd.def_, constraints=kept or None))
        statements = [render(edited(ctx.node, cmds=tuple(replaced.get(id(c), c) for c in ctx.node.cmds)))]
    quoted = qualified(table)
    named = _constraint_names(ctx, table)
    names = [named.get(id(cmd.def_)) for cmd in cmds]
    for cmd, con in columns:
        name = named.get(id(con))
        names.append(name)
        changes = dict(skip_validation=True, initially_valid=False, conname=None)
        if con.contype == CT.CONSTR_FOREIGN:
            changes["fk_attrs"] = (ast.String(sval=cmd.def_.colname),)
        statements.append(f"ALTER TABLE {quoted} ADD CONSTRAINT {ident(name)} {expression(edited(con, **changes))};")
    validates = [f"ALTER TABLE {quoted} VALIDATE CONSTRAINT {ident(n) if n else '<constraint>'};" for n in names]
    later = later_transaction(ctx)
    if len(validates) > 1:
        later = f"each VALIDATE {later}"
    return "\n".join(statements) + f"\n-- then, {later}:\n" + "\n".join(validates)


def _by_command(pairs):
    grouped: dict = {}
    for cmd, con in pairs:
        grouped.setdefault(id(cmd), (cmd, []))[1].append(con)
    return list(grouped.values())


@detects("MS020", ast.AlterTableStmt, subcommands=(AT.AT_AddConstraint, AT.AT_AddColumn))
def foreign_key_without_not_valid(ctx: Context):
    table, cmds = _constraint_cmds(ctx, CT.CONSTR_FOREIGN)
    # Each referenced table is a lock target of its own; the keys to one table are one finding.
    by_ref: dict[str, list] = {}
    for cmd in cmds:
        if not cmd.def_.skip_validation:
            ref = ctx.catalog.qualify(cmd.def_.pktable.schemaname, cmd.def_.pktable.relname)
            by_ref.setdefault(ref, []).append(cmd)
    named = _constraint_names(ctx, table) if by_ref else {}
    for ref, group in by_ref.items():
        names = [named.get(id(c.def_)) for c in group]
        what = (f"foreign key {_names(names)}" if len(group) == 1 and names[0]
                else f"foreign keys {_names(names)}" if len(group) > 1 else "a foreign key")
        yield Hit(f"adding {what} checks every row of {table} while blocking {_blocking(ctx, table, ref)}",
                  fix=_not_valid_fix(ctx, table, group), relation=table,
                  span=_constraint_span(ctx, group[0], "FOREIGN KEY"))
    keys = validated_keys(ctx) if table is not None else []
    for cmd, con in keys:
        ref = ctx.catalog.qualify(con.pktable.schemaname, con.pktable.relname)
        unwritten = _without_null_default(ctx, keys, cmd)
        default = "with DEFAULT NULL: a written default, even NULL, makes PostgreSQL check" \
            if unwritten is not None else "with a default: PostgreSQL checks"
        fix = (f"{unwritten}  -- no DEFAULT: every row holds NULL, so PostgreSQL marks the key valid unchecked"
               if unwritten is not None else split_constraint_fix(ctx, table, cmd, con, later_transaction(ctx)))
        yield Hit(f"ADD COLUMN {cmd.def_.colname} REFERENCES {ref} {default} every row of {table} "
                  f"while blocking {_blocking(ctx, table, ref)}",
                  fix=fix, relation=table, span=column_span(ctx, cmd, "REFERENCES"))


def _without_null_default(ctx: Context, keys, cmd) -> str | None:
    """The statement with the column's DEFAULT NULL left out, when that alone spares the check:
    the other added columns have no default either (on 12 any of them makes the server check)."""
    if any(k is not cmd for k, _ in keys):
        return None
    defaults = [c for c in cmd.def_.constraints or () if c.contype == CT.CONSTR_DEFAULT]
    if len(defaults) != 1 or not _is_null(defaults[0].raw_expr):
        return None
    others = [c for c in added_columns(ctx) if c is not cmd]
    if any(k.contype == CT.CONSTR_DEFAULT for c in others for k in c.def_.constraints or ()):
        return None
    kept = tuple(c for c in cmd.def_.constraints if c is not defaults[0])
    bare = edited(cmd, def_=edited(cmd.def_, constraints=kept or None))
    return render(edited(ctx.node, cmds=tuple(bare if c is cmd else c for c in ctx.node.cmds)))


def _is_null(expr) -> bool:
    if isinstance(expr, ast.TypeCast):
        expr = expr.arg
    return isinstance(expr, ast.A_Const) and bool(expr.isnull)


def _blocking(ctx: Context, table: str, ref: str) -> str:
    """What the check blocks on each table, naming a table once (a key to its own table) and
    the referenced one only when it is live (one the migration created has no traffic)."""
    own = f"{ctx.blocked(table)} on {table}"
    if ref == table or not ctx.catalog.is_live(ref):
        return own
    theirs = ctx.blocked(ref)
    return f"{theirs} on {table} and {ref}" if theirs == ctx.blocked(table) else f"{own} and {theirs} on {ref}"


def _constraint_span(ctx: Context, cmd, word: str):
    """Where `word` first occurs in this subcommand's constraint (in the statement when unknown)."""
    sql, start = ctx.statement.sql, getattr(cmd.def_, "location", None)
    if start is None or start < 0:
        return ctx.span_of(word)
    span = keyword_span(sql[start:], word)
    return (start + span[0], start + span[1]) if span else ctx.span_of(word)


@detects("MS021", ast.AlterTableStmt, subcommands=(AT.AT_AddConstraint, AT.AT_AddColumn))
def check_without_not_valid(ctx: Context):
    table, cmds = _constraint_cmds(ctx, CT.CONSTR_CHECK)
    if table is None:
        return
    cmds = [c for c in cmds if not c.def_.skip_validation]
    columns = column_checks(ctx)
    if not cmds and not columns:
        return
    if not cmds and len(columns) == 1:
        ((cmd, con),) = columns
        yield Hit(f"ADD COLUMN {cmd.def_.colname} with a CHECK scans live table {table} under AccessExclusiveLock "
                  f"(a column constraint cannot be NOT VALID)",
                  fix=split_constraint_fix(ctx, table, cmd, con, later_transaction(ctx)), relation=table,
                  span=column_span(ctx, cmd, "CHECK"))
        return
    # PostgreSQL tests every constraint one ALTER TABLE adds in a single scan of the table, under
    # the statement's one AccessExclusiveLock: one finding, whose fix covers them all.
    named = _constraint_names(ctx, table)
    names = [named.get(id(c.def_)) for c in cmds] + [named.get(id(con)) for _, con in columns]
    if len(names) == 1:
        what = f"CHECK constraint {names[0]}" if names[0] else "a CHECK constraint"
    else:
        what = f"CHECK constraints {_names(names)}"
    where = "" if not columns else (
        f" (the one{'s' if len(columns) > 1 else ''} inside ADD COLUMN cannot be NOT VALID)")
    scan = f"scans live table {table}" if len(names) == 1 else f"scans live table {table} once for all of them"
    span = _constraint_span(ctx, cmds[0], "CHECK") if cmds else column_span(ctx, columns[0][0], "CHECK")
    yield Hit(f"adding {what} {scan} under AccessExclusiveLock{where}",
              fix=_not_valid_fix(ctx, table, cmds, columns), relation=table, span=span)


@detects("MS022", ast.AlterTableStmt, subcommands=(AT.AT_AddConstraint, AT.AT_AddColumn))
def unique_constraint_builds_index(ctx: Context):
    table, cmds = _constraint_cmds(ctx, CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY)
    names = _constraint_names(ctx, table) if cmds else {}
    for cmd in cmds:
        con = cmd.def_
        if con.indexname:
            continue
        kind = "PRIMARY KEY" if con.contype == CT.CONSTR_PRIMARY else "UNIQUE"
        cols = ", ".join(ident(strval(k)) for k in con.keys or ())
        named = names.get(id(con)) or "<constraint>"
        name = ident(named)
        yield Hit(f"ADD {kind} {named} builds its index on live table {table} under AccessExclusiveLock",
                  fix=(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {qualified(table)} ({cols});"
                       f"  -- {_concurrently_where(ctx)}\n"
                       f"ALTER TABLE {qualified(table)} ADD CONSTRAINT {name} {kind} USING INDEX {name};"),
                  relation=table, span=ctx.span_of(kind.split()[0]))
    yield from _column_added_with_unique_key(ctx)


def _concurrently_where(ctx: Context) -> str:
    """Where the CONCURRENTLY build runs, in the words of the migration's own tool: "its own
    migration" runs in Drizzle's batch transaction, and Supabase's only on recent CLIs."""
    return f"outside a transaction: {outside_advice(layout_name(ctx))}"


def _column_added_with_unique_key(ctx: Context):
    """ADD COLUMN ... UNIQUE / PRIMARY KEY builds the key's index over every row, as ADD
    CONSTRAINT does, under the ADD COLUMN's AccessExclusiveLock."""
    table = ctx.altered_live_table()
    if table is None:
        return
    for cmd in ctx.node.cmds or ():
        if cmd.subtype != AT.AT_AddColumn or not isinstance(cmd.def_, ast.ColumnDef):
            continue
        column = cmd.def_
        for con in column.constraints or ():
            if con.contype not in (CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY):
                continue
            kind = "PRIMARY KEY" if con.contype == CT.CONSTR_PRIMARY else "UNIQUE"
            col = ident(column.colname)
            name = ident(con.conname or f"{table.split('.')[1]}_{column.colname}_{'pkey' if con.contype == CT.CONSTR_PRIMARY else 'key'}")
            kind_sql = expression(column.typeName) if column.typeName is not None else "<type>"
            yield Hit(f"ADD COLUMN {column.colname} {kind} builds its index over every row of live table {table} "
                      f"under AccessExclusiveLock",
                      fix=(f"ALTER TABLE {qualified(table)} ADD COLUMN {col} {kind_sql};\n"
                           f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {qualified(table)} ({col});"
                           f"  -- {_concurrently_where(ctx)}\n"
                           f"ALTER TABLE {qualified(table)} ADD CONSTRAINT {name} {kind} USING INDEX {name};"),
                      relation=table, span=ctx.span_of(kind.split()[0]))


@detects("MS023", ast.AlterTableStmt, subcommands=(AT.AT_AddConstraint,))
def exclusion_constraint(ctx: Context):
    table, cmds = _constraint_cmds(ctx, CT.CONSTR_EXCLUSION)
    names = _constraint_names(ctx, table) if cmds else {}
    for cmd in cmds:
        named = names.get(id(cmd.def_))
        what = f"ADD EXCLUDE {named}" if named else "ADD EXCLUDE"
        yield Hit(f"{what} builds its index on live table {table} under AccessExclusiveLock",
                  fix="-- no online form: build it on a new table and swap, or use a maintenance window",
                  relation=table, span=ctx.span_of("EXCLUDE"))


@detects("MS024", ast.AlterTableStmt, subcommands=(AT.AT_SetNotNull,))
def set_not_null_scan(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    if table is None or table not in ctx.impact.scans:
        return
    rel = ctx.catalog.get(table)
    for cmd in node.cmds or ():
        if cmd.subtype != AT.AT_SetNotNull:
            continue
        if rel is not None and (cmd.name in rel.columns and rel.columns[cmd.name].not_null):
            continue
        if rel is not None and rel.not_null_proven(cmd.name) and ctx.pg_version >= 12:
            continue
        if new_column_without_default(ctx, table, cmd.name):
            continue  # MS045 reports it, scan included: its fix removes the SET NOT NULL from this migration
        c, check, quoted = ident(cmd.name), ident(f"{cmd.name}_not_null"), qualified(table)
        later = later_transaction(ctx)
        yield Hit(f"SET NOT NULL scans all of live table {table} under AccessExclusiveLock",
                  fix=(f"ALTER TABLE {quoted} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n"
                       f"-- then, {later}:\nALTER TABLE {quoted} VALIDATE CONSTRAINT {check};\n"
                       f"-- then, in a further transaction the same way (PostgreSQL 12+ skips the scan):\n"
                       f"ALTER TABLE {quoted} ALTER COLUMN {c} SET NOT NULL;\n"
                       f"ALTER TABLE {quoted} DROP CONSTRAINT {check};"),
                  relation=table, span=ctx.span_of("SET NOT NULL"))


@detects("MS025", ast.AlterTableStmt, subcommands=(AT.AT_ValidateConstraint,))
def validate_in_same_transaction(ctx: Context):
    node, table = ctx.node, ctx.altered_live_table()
    if table is None or not ctx.tx.open:
        return
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_ValidateConstraint and (table, cmd.name) in ctx.tx.not_valid:
            line = ctx.tx.not_valid[(table, cmd.name)]
            yield Hit(f"VALIDATE runs in the same transaction as the ADD ... NOT VALID on line {line}: "
                      f"the ADD's lock on {table} is held through the validation scan",
                      fix=(f"-- move the VALIDATE out of the ADD's transaction, {later_transaction(ctx)}:\n"
                           f"{ctx.statement.sql};"),
                      relation=table, span=ctx.span_of("VALIDATE"))


@detects("MS026", ast.AlterTableStmt, subcommands=(AT.AT_AddColumn,))
def add_column_not_null_without_default(ctx: Context):
    table = ctx.altered_live_table()
    if table is None:
        return
    for cmd in added_columns(ctx, "not_null_without_default_columns"):
        col = cmd.def_.colname
        kind = expression(cmd.def_.typeName) if cmd.def_.typeName is not None else "<type>"
        truncated = ctx.tx.emptied.get(table) if ctx.tx.open else None
        if truncated is not None:
            # The empty table lets the ADD succeed; the running code still does not name the column.
            message = (f"ADD COLUMN {col} NOT NULL without a default succeeds only because the TRUNCATE on line "
                       f"{truncated} emptied {table}: the running application's INSERTs into {table} that omit "
                       f"{col} fail from the commit on")
        else:
            message = (f"ADD COLUMN {col} NOT NULL without a default fails on a table with rows, and the running "
                       f"application's INSERTs into {table} that omit {col} start failing")
        key = later_key_on(ctx, table, col)
        if key is None:
            fix = (f"ALTER TABLE {qualified(table)} ADD COLUMN {ident(col)} {kind} NOT NULL DEFAULT <constant>;\n"
                   f"-- or: add it nullable, backfill in batches, then the CHECK NOT VALID / VALIDATE / "
                   f"SET NOT NULL sequence")
        else:
            fix = _keyed_column_fix(table, col, kind, *key)
        yield Hit(message, fix=fix, relation=table, span=column_span(ctx, cmd, "NOT NULL"))


def _keyed_column_fix(table: str, col: str, kind: str, line: int, key: str) -> str:
    """A column a later statement makes a key: a constant default gives every existing row the
    same value, so the key could not be built; new rows need a value of their own, old rows a
    backfill."""
    per_row = "gen_random_uuid()" if kind.lower() == "uuid" else "<a value unique per row, e.g. nextval('a_new_seq')>"
    quoted, c = qualified(table), ident(col)
    return (f"-- {col} becomes {key} on line {line}: a constant default would give every existing row the same "
            f"{col}, and that key would fail to build\n"
            f"ALTER TABLE {quoted} ADD COLUMN {c} {kind};  -- nullable, no default: metadata only\n"
            f"ALTER TABLE {quoted} ALTER COLUMN {c} SET DEFAULT {per_row};  -- new rows only\n"
            f"-- then, outside the DDL transaction: backfill the existing rows in batches; CREATE UNIQUE INDEX "
            f"CONCURRENTLY on ({c});\n"
            f"-- the CHECK ({c} IS NOT NULL) NOT VALID / VALIDATE / SET NOT NULL sequence; then the key, "
            f"USING that index")
