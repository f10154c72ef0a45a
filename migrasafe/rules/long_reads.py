"""Reads that keep an AccessExclusiveLock held for as long as they run (MS034).

A statement that only reads changes no rows, so it is no unbatched data change (MS033): what it
costs is time, and under AccessExclusiveLock on a live table (from DDL or LOCK TABLE) every query
on that table waits all that time. ANALYZE, a query scanning a live table, and a copy into a
temporary table (no WAL, no replica: a read of its source) are reported here; a SELECT whose
data-modifying WITH MS030 reports is left to it, a statement gets one of the two.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ObjectType

from .base import Context, Hit, detects
from .batching import live_tables, one_batch_read, read_tables, temporary
from .locking import backfill_under_exclusive_lock, data_modifying_ctes


@detects("MS034", ast.SelectStmt, ast.CreateTableAsStmt, ast.VacuumStmt)
def long_read_under_strong_lock(ctx: Context):
    node = ctx.node
    held = ctx.tx.exclusive_held()
    if not held:
        return
    if isinstance(node, ast.VacuumStmt):
        yield from _analyze(ctx, node, held)
        return
    if any(backfill_under_exclusive_lock(ctx, inner) is not None for inner in data_modifying_ctes(node)):
        return
    if isinstance(node, ast.CreateTableAsStmt):
        if node.objtype == ObjectType.OBJECT_TABLE and not node.into.skipData and temporary(node.into):
            yield from _read(ctx, node.query, held)
    elif node.intoClause is None or temporary(node.intoClause):
        yield from _read(ctx, node, held)


def _described(held: dict[str, int | str]) -> str:
    return ", ".join(f"{t} (line {line})" for t, line in held.items())


def _read(ctx: Context, node, held: dict[str, int | str]):
    if not isinstance(node, ast.SelectStmt) or one_batch_read(ctx, node):
        return
    # Only what the query itself scans: a subquery in its target list (setval(..., (SELECT max(id)
    # FROM t))) is an index lookup, not a scan.
    sources = read_tables(ctx, node)
    if sources:
        yield Hit(f"this query reads live table{'s' if len(sources) > 1 else ''} {', '.join(sources)} and "
                  f"changes no rows, but the transaction holds AccessExclusiveLock on {_described(held)}: "
                  f"every query on {'them' if len(held) > 1 else 'it'} waits while it reads, and then until commit",
                  fix="-- commit the DDL first; run the query after it, in its own transaction",
                  relation=next(iter(held)), span=ctx.span_of("SELECT"))


def _analyze(ctx: Context, node: ast.VacuumStmt, held: dict[str, int | str]):
    if node.is_vacuumcmd:
        return
    rels = [ctx.catalog.qualify(r.relation.schemaname, r.relation.relname) for r in node.rels or ()
            if r.relation is not None]
    tables = live_tables(ctx, rels) if rels else ["every table of the database"]
    if tables:
        yield Hit(f"ANALYZE reads {', '.join(tables)} while the transaction holds AccessExclusiveLock on "
                  f"{_described(held)}: every query on {'them' if len(held) > 1 else 'it'} waits while it reads, "
                  f"and then until commit",
                  fix="-- commit the DDL first; run ANALYZE after it, outside the transaction",
                  relation=next(iter(held)), span=ctx.span_of("ANALYZE"))
