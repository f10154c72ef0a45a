"""Index builds and drops, and statements that cannot run in a transaction."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ObjectType as OT, ReindexObjectType as RO

from ..catalog.names import dotted
from ..plan.sql import ident, qualified
from .base import Context, Hit, detects, edited, insert_after, render
from .syntax_versions import missing_syntax


@detects("MS001", ast.IndexStmt)
def index_without_concurrently(ctx: Context):
    node = ctx.node
    if not isinstance(node, ast.IndexStmt) or node.concurrent or ctx.impact.notes.get("parent_only_index"):
        return
    if ctx.impact.notes.get("attaches_partition_indexes"):
        return  # every partition's matching index exists: PostgreSQL attaches them, builds nothing
    table = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
    if not ctx.live(table):
        return
    if ctx.impact.notes.get("index_exists"):
        return  # IF NOT EXISTS of an index that exists: PostgreSQL only says so, it builds and scans nothing
    fix = _concurrently(ctx)
    rel = ctx.catalog.get(table)
    if rel is not None and rel.kind == "partitioned":
        fix = ("-- CONCURRENTLY is not supported on a partitioned table: create the index ON ONLY the\n"
               "-- parent, build each partition's index CONCURRENTLY, then ALTER INDEX ... ATTACH PARTITION.")
    else:
        fix += _outside_note(ctx, "op.create_index", DJANGO_CONCURRENT_INDEX)
    held = ctx.tx.exclusive_held().get(table)
    also = (f" (this transaction already holds AccessExclusiveLock on it, since line {held}, so reads wait too)"
            if held is not None else "")
    yield Hit(f"CREATE INDEX on live table {table} blocks writes until the index is built{also}",
              fix=fix, relation=table, span=_through(ctx, "INDEX"))


DJANGO_CONCURRENT_INDEX = (
    "\n-- Django: AddIndexConcurrently (django.contrib.postgres.operations) in a migration whose Migration\n"
    "-- class sets atomic = False; for the index of a ForeignKey or db_index=True field, add the field\n"
    "-- with db_index=False, then AddIndexConcurrently (SeparateDatabaseAndState keeps the model state)")

_OUT_OF_THE_BLOCK = ("\n-- out of the DO block, which always runs in a transaction, into a migration that "
                     "runs outside one")


def _outside_note(ctx: Context, alembic_call: str, django: str) -> str:
    """Where the CONCURRENTLY form must run in this migration's layout, when not where it stands."""
    if ctx.statement.in_do_block:
        return _OUT_OF_THE_BLOCK
    if ctx.migration.format == "alembic":
        return ("\n-- with op.get_context().autocommit_block():\n"
                f"--     {alembic_call}(..., postgresql_concurrently=True)")
    if ctx.migration.format == "django":
        return django
    if ctx.tx.open:
        return f"\n-- outside a transaction: {outside_advice(layout_name(ctx))}"
    return ""


def _sql_outside_note(ctx: Context) -> str:
    """Where a statement that refuses a transaction block runs in this migration's layout."""
    if ctx.migration.format == "alembic" and not ctx.statement.in_do_block:
        return "\n-- in Alembic: op.execute(...) inside `with op.get_context().autocommit_block():`"
    if ctx.migration.format == "django" and not ctx.statement.in_do_block:
        return "\n-- in Django: migrations.RunSQL(...) in a migration whose Migration class sets atomic = False"
    return _outside_note(ctx, "", "")


_DJANGO_CONCURRENT_DROP = ("\n-- Django: RemoveIndexConcurrently (django.contrib.postgres.operations) in a migration "
                           "whose Migration class sets atomic = False")


def _concurrently(ctx: Context) -> str:
    """The user's statement with CONCURRENTLY where the grammar wants it: right after INDEX."""
    return (insert_after(ctx.statement.sql, "INDEX", "CONCURRENTLY")
            or render(edited(ctx.node, concurrent=True)))


def _through(ctx: Context, word: str) -> tuple[int, int] | None:
    """From the start of the statement through the keyword: `CREATE UNIQUE INDEX`."""
    span = ctx.span_of(word)
    return (0, span[1]) if span else None


@detects("MS002", ast.DropStmt)
def drop_index_without_concurrently(ctx: Context):
    node = ctx.node
    if not isinstance(node, ast.DropStmt) or node.removeType != OT.OBJECT_INDEX or node.concurrent:
        return
    held = ctx.tx.exclusive_held()
    for obj in node.objects or ():
        idx = ctx.catalog.indexes.get(ctx.catalog.qualify_index(*dotted(obj)))
        if idx is None or not ctx.live(idx.table):
            continue
        if idx.table in held:
            # The transaction already holds AccessExclusiveLock on the table: the DROP takes
            # nothing more, and CONCURRENTLY could not run inside that transaction anyway.
            yield Hit(f"DROP INDEX {idx.name} adds no lock: this transaction already holds AccessExclusiveLock "
                      f"on live table {idx.table} (line {held[idx.table]}), which every query on it waits for",
                      fix="-- nothing to change in this statement; the earlier statement's lock is the one to shorten",
                      relation=idx.table, span=ctx.span_of("DROP INDEX"), severity="info")
            continue
        rel = ctx.catalog.get(idx.table)
        if rel is not None and rel.kind == "partitioned":
            yield Hit(f"DROP INDEX {idx.name} takes AccessExclusiveLock on live partitioned table {idx.table} "
                      f"and on every one of its partitions",
                      fix=_partitioned_drop(ctx), relation=idx.table, span=ctx.span_of("DROP INDEX"))
            continue
        yield Hit(f"DROP INDEX {idx.name} takes AccessExclusiveLock on live table {idx.table}",
                  fix=_concurrently(ctx) + _outside_note(ctx, "op.drop_index", _DJANGO_CONCURRENT_DROP),
                  relation=idx.table,
                  span=ctx.span_of("DROP INDEX"))


def _partitioned_drop(ctx: Context) -> str:
    """PostgreSQL refuses DROP INDEX CONCURRENTLY of a partitioned table's index: what is left is
    keeping the lock short, and not queueing every query behind a drop that waits for it."""
    from .locking import lock_timeout_in_force

    alone = " (commit the statements before it first)" if ctx.tx.open and ctx.tx.held else ""
    timeout = "" if lock_timeout_in_force(ctx)[0] else "SET lock_timeout = '2s';\n"
    return ("-- CONCURRENTLY is not supported for an index of a partitioned table: drop it alone in a short\n"
            f"-- transaction of its own{alone}, with a lock_timeout, and run it again when the timeout hits\n"
            f"{timeout}{ctx.statement.sql};")


@detects("MS003", ast.ReindexStmt)
def reindex_without_concurrently(ctx: Context):
    node = ctx.node
    if not isinstance(node, ast.ReindexStmt) or ctx.impact.notes.get("concurrently"):
        return
    for lock in ctx.live_locks():
        rebuilt = [l.index for l in ctx.impact.index_locks if l.table == lock.relation]
        if rebuilt:
            what, each = (f"index {rebuilt[0]}", "the index") if len(rebuilt) == 1 else (
                f"the {len(rebuilt)} indexes", "each")
            message = (f"REINDEX rebuilds {what} of live table {lock.relation} under AccessExclusiveLock on {each}: "
                       f"the table's reads wait as well as its writes")
        else:
            message = f"REINDEX blocks writes to live table {lock.relation} and reads that use the index"
        yield Hit(message, fix=_reindex_fix(node, ctx), relation=lock.relation, span=ctx.span_of("REINDEX"))


def _reindex_fix(node: ast.ReindexStmt, ctx: Context) -> str:
    if ctx.pg_version < 12:
        return "-- PostgreSQL before 12: CREATE INDEX CONCURRENTLY a replacement, DROP INDEX CONCURRENTLY the old one, rename"
    # `REINDEX TABLE CONCURRENTLY t` is accepted from 12; the parenthesised option form only from 14.
    kind = "INDEX" if node.kind == RO.REINDEX_OBJECT_INDEX else "TABLE"
    rv = node.relation
    name = f"{ident(rv.schemaname)}.{ident(rv.relname)}" if rv.schemaname else ident(rv.relname)
    return f"REINDEX {kind} CONCURRENTLY {name};  -- outside a transaction"


def index_tablespace(ctx: Context):
    """The index's files are copied under AccessExclusiveLock on it, which every query planned
    on its table waits for. REINDEX ... CONCURRENTLY builds the copy in the new tablespace beside
    it (PostgreSQL 14 and later)."""
    for lock in ctx.live_index_locks():
        if lock.mode != "AccessExclusiveLock":
            continue
        cmd = next(c for c in ctx.node.cmds if c.subtype == AT.AT_SetTableSpace)
        idx = ctx.catalog.indexes.get(lock.index)
        if idx is not None and idx.tablespace == cmd.name:
            continue  # already there: nothing is copied
        of = f" of live table {lock.table}" if lock.table else ""
        space = ident(cmd.name)
        if ctx.pg_version >= 14:
            fix = (f"REINDEX (TABLESPACE {space}) INDEX CONCURRENTLY {qualified(lock.index)};"
                   "  -- builds the new copy beside the old one" + _sql_outside_note(ctx))
        else:
            fix = (f"-- CREATE INDEX CONCURRENTLY a copy of {lock.index} with TABLESPACE {space}, then DROP INDEX "
                   f"CONCURRENTLY {qualified(lock.index)} and rename the copy (REINDEX ... TABLESPACE needs "
                   "PostgreSQL 14)")
        yield Hit(f"SET TABLESPACE copies index {lock.index}{of} under AccessExclusiveLock on the index: every "
                  f"query planned on {lock.table or 'its table'} waits for the whole copy",
                  fix=fix, relation=lock.table or lock.index, span=ctx.span_of("SET"))


@detects("MS004")
def cannot_run_in_transaction(ctx: Context):
    if ctx.impact.transactional or not ctx.tx.open:
        return
    how = "an explicit BEGIN" if ctx.tx.explicit else _implicit(ctx)
    yield Hit(f"PostgreSQL refuses this statement inside a transaction block; this migration runs it inside {how}",
              fix=_outside_fix(ctx), span=(0, min(len(ctx.statement.sql.split("\n")[0]), 40)))


def _implicit(ctx: Context) -> str:
    if ctx.tx.query_block is not None:
        return (f"the implicit transaction PostgreSQL opens for statements sent in one piece: "
                f"{ctx.tx.query_block[2]} reaches the server as one query or pipeline")
    if ctx.migration.meta.get("implicit_transaction"):
        return (f"the implicit transaction PostgreSQL opens for a multi-statement query: "
                f"{layout_name(ctx)} sends the whole file as one query")
    reason = ctx.migration.transaction_reason
    return f"the transaction {ctx.migration.format} opens around the file" + (f" ({reason})" if reason else "")


def _outside_fix(ctx: Context) -> str:
    fmt = layout_name(ctx)
    if ctx.tx.query_block is not None and fmt in ("goose", "sql-migrate"):
        return (f"-- give it its own StatementBegin/StatementEnd block, or none ({fmt} then sends it alone)\n"
                f"{ctx.statement.sql};")
    if ctx.migration.meta.get("implicit_transaction"):
        return f"-- put this statement alone in its own migration file\n{ctx.statement.sql};"
    return f"-- {outside_advice(fmt)}\n{ctx.statement.sql};"


def layout_name(ctx: Context) -> str:
    """The tool that runs this migration: the one an Atlas directory is written for, else its format."""
    return ctx.migration.meta.get("runs_as") or ctx.migration.format


def outside_advice(fmt: str) -> str:
    """How this layout runs a statement outside a transaction (each source format says)."""
    if fmt == "alembic":
        return "wrap it in 'with op.get_context().autocommit_block():'"
    if fmt == "django":
        return "move it to its own migration whose Migration class sets atomic = False"
    from ..sources.registry import FORMATS

    source = FORMATS.get(fmt)
    return source.outside_transaction if source is not None else "run it outside any transaction"


@detects("MS005")
def unsupported_on_version(ctx: Context):
    reason = ctx.impact.notes.get("unsupported")
    if reason:
        yield Hit(f"{reason}; the configured version is {ctx.pg_version}", span=ctx.span_of("CONCURRENTLY"))
    elif (reason := missing_syntax(ctx.node, ctx.pg_version)) is not None:
        yield Hit(f"{reason}; the configured version is {ctx.pg_version}")
