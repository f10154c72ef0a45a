"""Data changes that touch a whole live table in one statement (MS033).

MS030 reports the worst of them, a data change on a live table while the same transaction
holds AccessExclusiveLock (from DDL or LOCK TABLE); a statement it reports is left to it. A DELETE without
WHERE is left to MS028: the data loss is the finding, batching it would lose the same rows. MS033 reports every
other UPDATE or DELETE that neither pins a unique key nor bounds a key range, every copy of a
live table (INSERT ... SELECT, CREATE TABLE ... AS, SELECT INTO) and the same inside a WITH. A
statement that only reads (ANALYZE, a query scanning a live table) changes no rows: under
AccessExclusiveLock it is MS034's (rules/long_reads.py).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ObjectType

from ..catalog.names import referenced_relations
from .base import Context, Hit, detects, expression, tokens_of
from .keys import bounded_key, few_rows, pinned_columns, unique_keys
from .locking import backfill_under_exclusive_lock, data_modifying_ctes

BATCH = 1000


@detects("MS033", ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.SelectStmt, ast.CreateTableAsStmt)
def unbatched_data_change(ctx: Context):
    node = ctx.node
    changes = list(data_modifying_ctes(node))
    for inner in changes:
        yield from _judge_change(ctx, inner, in_cte=True)
    if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)):
        yield from _judge_change(ctx, node, in_cte=False)
    elif any(backfill_under_exclusive_lock(ctx, inner) is not None for inner in changes):
        return  # MS030 reports the statement: every query on the table waits for the whole of it
    elif isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_TABLE:
        if not node.into.skipData and not temporary(node.into):
            yield from _judge_copy(ctx, node.query, "CREATE TABLE ... AS")
    elif isinstance(node, ast.SelectStmt) and node.intoClause is not None and not temporary(node.intoClause):
        yield from _judge_copy(ctx, node, "SELECT INTO")


def temporary(into: ast.IntoClause) -> bool:
    """A copy into a temporary table writes no WAL and reaches no replica: what is left of it is a
    read of the source, which matters only under a strong lock (the session's own scratch rows,
    such as the keys a batched backfill then walks)."""
    return into.rel is not None and into.rel.relpersistence == "t"


def live_tables(ctx: Context, names) -> list[str]:
    """The live tables (not views, sequences or system catalogs) among these names."""
    out = []
    for name in dict.fromkeys(names):
        rel = ctx.catalog.get(name)
        if ctx.holds_rows(name) and (rel is None or rel.is_table):
            out.append(name)
    return out


def read_tables(ctx: Context, query, ctes=()) -> list[str]:
    """The live tables a SELECT scans: those of its FROM (and of its WITH and set-operation
    arms), not a subquery of its WHERE or target list, which an index usually answers
    (`INSERT ... SELECT 'x' WHERE NOT EXISTS (SELECT 1 FROM t WHERE key = 'x')`)."""
    if not isinstance(query, ast.SelectStmt):
        return []
    if query.op.name != "SETOP_NONE":
        return list(dict.fromkeys(read_tables(ctx, query.larg, ctes) + read_tables(ctx, query.rarg, ctes)))
    with_clause = query.withClause
    own = tuple(c.ctename for c in (with_clause.ctes if with_clause is not None else ()) or ())
    names = [ctx.catalog.qualify(s, n) for item in query.fromClause or ()
             for s, n in referenced_relations(item, ctes + own)]
    return live_tables(ctx, names + _with_reads(ctx, with_clause, ctes))


def _with_reads(ctx: Context, with_clause, ctes=()) -> list[str]:
    """The live tables the SELECTs of a WITH scan. Each sees the names of the WITH queries before
    it (all of them in a WITH RECURSIVE) besides the enclosing `ctes`: those are no tables."""
    names = [c.ctename for c in (with_clause.ctes if with_clause is not None else ()) or ()]
    out: list[str] = []
    for position, cte in enumerate((with_clause.ctes if with_clause is not None else ()) or ()):
        seen = ctes + tuple(names if with_clause.recursive else names[:position])
        out += [t for t in read_tables(ctx, cte.ctequery, seen) if t not in out]
    return out


def _exclusive_held(ctx: Context) -> str:
    return ", ".join(f"{t} (line {line})" for t, line in ctx.tx.exclusive_ddl.items()) if ctx.tx.open else ""


def _strong_held(ctx: Context) -> str:
    held = ctx.tx.blocking_held() if ctx.tx.open else {}
    return ", ".join(f"{mode} on {table}" for table, mode in held.items())


def _cte_names(ctx: Context) -> tuple[str, ...]:
    with_clause = _with_clause(ctx.node)
    return tuple(c.ctename for c in (with_clause.ctes if with_clause is not None else ()) or ())


def _with_clause(node):
    """The WITH of a statement (of its query, for CREATE TABLE ... AS)."""
    return getattr(node.query if isinstance(node, ast.CreateTableAsStmt) else node, "withClause", None)


def _judge_change(ctx: Context, node, in_cte: bool):
    if backfill_under_exclusive_lock(ctx, node) is not None:
        return  # MS030 reports it, with the lock it waits behind
    verb = type(node).__name__.replace("Stmt", "").upper()
    where = ctx.run_by + (" in a WITH" if in_cte else "")
    if isinstance(node, ast.InsertStmt):
        sel = node.selectStmt
        if not isinstance(sel, ast.SelectStmt) or sel.valuesLists is not None or one_batch_read(ctx, sel):
            return
        sources = read_tables(ctx, sel, _cte_names(ctx))
        if not in_cte:
            sources += [t for t in _with_reads(ctx, node.withClause) if t not in sources]
        if not sources:
            return
        target = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
        yield Hit(f"INSERT ... SELECT{where} copies live table{'s' if len(sources) > 1 else ''} "
                  f"{', '.join(sources)} into {target} in one statement: it reads all of "
                  f"{'them' if len(sources) > 1 else 'it'} and writes WAL (and replication lag) in proportion"
                  + _lock_note(ctx),
                  fix=_copy_fix(ctx, sources[0]), relation=sources[0], span=_span(ctx, "INSERT"))
        return
    target = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
    if not live_tables(ctx, [target]):
        return
    if empties_table(node):
        return  # MS028 reports it: the rows are lost, and batching would lose them all the same
    variables = ctx.variables  # a DO block's names: `WHERE id = rec.id` pins the key, as $1 does
    if node.whereClause is not None and (few_rows(ctx.catalog, node, target, variables)
                                         or bounded_key(ctx.catalog, target, node.whereClause, variables)
                                         or _joins_one_batch(ctx, node)):
        return
    if getattr(node, "whereClause", None) is None and not (getattr(node, "fromClause", None)
                                                           or getattr(node, "usingClause", None)):
        reach = f"every row of live table {target}"
    else:
        reach = f"live table {target} with a WHERE that pins no unique key and bounds no key range"
    yield Hit(f"{verb}{where} of {reach}: it locks every row it {'deletes' if verb == 'DELETE' else 'changes'} "
              f"until commit (concurrent writes to them wait), and writes WAL (replication lag) and dead rows "
              f"in proportion to the table" + _lock_note(ctx),
              fix=batched_fix(ctx, node, target) if not in_cte else _generic_fix(ctx, target),
              relation=target, span=_span(ctx, verb))


def empties_table(node) -> bool:
    """A DELETE of every row (no WHERE, no USING): MS028 (rules/locking.py) reports it on a live
    table with rows, under the same condition, as the data loss it is."""
    return isinstance(node, ast.DeleteStmt) and node.whereClause is None and node.usingClause is None


def _joins_one_batch(ctx: Context, node) -> bool:
    """UPDATE ... FROM / DELETE ... USING a subquery or WITH query that has a LIMIT: the rows
    changed are those of one batch."""
    with_clause = _with_clause(ctx.node)
    ctes = {c.ctename: c.ctequery for c in (with_clause.ctes if with_clause is not None else ()) or ()}
    with_clause = getattr(node, "withClause", None)
    ctes.update({c.ctename: c.ctequery for c in (with_clause.ctes if with_clause is not None else ()) or ()})
    for item in (getattr(node, "fromClause", None) or ()) + (getattr(node, "usingClause", None) or ()):
        query = None
        if isinstance(item, ast.RangeSubselect):
            query = item.subquery
        elif isinstance(item, ast.RangeVar) and item.schemaname is None:
            query = ctes.get(item.relname)
        if isinstance(query, ast.SelectStmt) and query.limitCount is not None:
            return True
    return False


def one_batch_read(ctx: Context, sel: ast.SelectStmt) -> bool:
    """A SELECT of one row or one batch: LIMIT, or a WHERE pinning or bounding its only table's key."""
    if sel.limitCount is not None:
        return True
    if sel.op.name != "SETOP_NONE" or not sel.fromClause or len(sel.fromClause) != 1:
        return False
    source = sel.fromClause[0]
    if not isinstance(source, ast.RangeVar) or sel.whereClause is None:
        return False
    table = ctx.catalog.qualify(source.schemaname, source.relname)
    pinned = pinned_columns(sel.whereClause, variables=ctx.variables)
    if any(set(key) <= pinned for key in unique_keys(ctx.catalog, table)):
        return True
    return bounded_key(ctx.catalog, table, sel.whereClause, ctx.variables)


def _judge_copy(ctx: Context, query, what: str):
    if not isinstance(query, ast.SelectStmt) or one_batch_read(ctx, query):
        return
    sources = read_tables(ctx, query)
    if sources:
        yield Hit(f"{what} copies live table{'s' if len(sources) > 1 else ''} {', '.join(sources)} in one "
                  f"statement: it reads all of {'them' if len(sources) > 1 else 'it'} and writes the copy's WAL "
                  f"in one go" + _lock_note(ctx),
                  fix=_copy_fix(ctx, sources[0]), relation=sources[0], span=_span(ctx, what.split()[0]))


def _lock_note(ctx: Context) -> str:
    held = _exclusive_held(ctx) and f"AccessExclusiveLock on {_exclusive_held(ctx)}" or _strong_held(ctx)
    return f"; meanwhile this transaction holds {held}" if held else ""


def _span(ctx: Context, word: str):
    return ctx.span_of(word)


def _primary_key(ctx: Context, table: str) -> tuple[str, ...]:
    rel = ctx.catalog.get(table)
    for con in (rel.constraints.values() if rel is not None else ()):
        if con.kind == "p" and con.columns:
            return con.columns
    return ()


def batched_fix(ctx: Context, node, table: str) -> str:
    if isinstance(node, ast.UpdateStmt) and not node.fromClause and _primary_key(ctx, table):
        body = _update_backfill(ctx, node, table)
        if body:
            from .layout_advice import self_committing_advice

            return (f"-- outside the DDL transaction: {self_committing_advice(ctx)};\n"
                    "-- it updates the rows in primary-key batches, committing each one:\n" + body)
    return _generic_fix(ctx, table)


def _update_backfill(ctx: Context, node: ast.UpdateStmt, table: str) -> str:
    from ..plan.blocks import backfill  # the plan's batched backfill, rendered only for a finding
    from ..plan.sql import ident

    targets = node.targetList or ()
    if any(t.indirection or isinstance(t.val, ast.MultiAssignRef) for t in targets) or not targets:
        return ""
    written = _as_written(ctx, node)
    if written is not None:
        values, where = written
    else:
        values = [expression(t.val) for t in targets]
        where = expression(node.whereClause) if node.whereClause is not None else None
    columns = [ident(t.name) for t in targets]
    assignments = ", ".join(f"{column} = {value}" for column, value in zip(columns, values))
    if len(columns) == 1:
        unchanged = f"{columns[0]} IS DISTINCT FROM ({values[0]})"
    else:
        unchanged = f"({', '.join(columns)}) IS DISTINCT FROM ({', '.join(values)})"
    pending = f"({where}) AND {unchanged}" if where is not None else unchanged
    step = backfill(ctx.catalog.get(table), assignments, pending, batch_size=BATCH, lock_timeout="2s",
                    title="", slug="")
    return step.statements[0] + ";"


_OPENING = {"ASCII_40", "ASCII_91"}  # ( [
_CLOSING = {"ASCII_41", "ASCII_93"}  # ) ]
_AFTER_SET = {"FROM", "WHERE", "RETURNING"}


def _as_written(ctx: Context, node: ast.UpdateStmt) -> tuple[list[str], str | None] | None:
    """The SET values and the WHERE condition of the statement as the user wrote them, cut at
    PostgreSQL's own tokens (commas and keywords inside parentheses or strings are not cuts);
    None when the statement is not a plain top-level UPDATE, and pglast then prints them."""
    if node is not ctx.node:
        return None
    sql = ctx.statement.sql
    depth, section = 0, None
    values: list[list] = []  # per SET item: [seen "=", tokens of the value...]
    where: list = []
    for token in tokens_of(sql):
        name = token.name
        cut = depth == 0 and name not in _OPENING
        depth += (name in _OPENING) - (name in _CLOSING)
        if cut:
            if section is None:
                if name == "WITH":
                    return None
                if name == "SET":
                    section, values = "set", [[False]]
                continue
            if section == "set":
                if name in _AFTER_SET:
                    section = name.lower()
                elif name == "ASCII_44":  # ,
                    values.append([False])
                elif name == "ASCII_61" and not values[-1][0]:  # the = of the item
                    values[-1][0] = True
                elif values[-1][0]:
                    values[-1].append(token)
                continue
            if section == "where" and name == "RETURNING":
                section = "returning"
                continue
        if section == "set" and values[-1][0]:
            values[-1].append(token)
        elif section == "where":
            where.append(token)
    if section == "from" or len(values) != len(node.targetList) or any(len(v) < 2 for v in values):
        return None
    if (node.whereClause is not None) != bool(where):
        return None
    texts = [sql[v[1].start:v[-1].end + 1] for v in values]
    return texts, (sql[where[0].start:where[-1].end + 1] if where else None)


def _generic_fix(ctx: Context, table: str) -> str:
    key = _primary_key(ctx, table)
    from ..plan.sql import ident, qualified

    pk = ident(key[0]) if len(key) == 1 else "<primary key>"
    return (f"-- outside the DDL transaction, in batches by primary key, each batch its own transaction:\n"
            f"-- ... WHERE {pk} IN (SELECT {pk} FROM {qualified(table)} WHERE <condition> ORDER BY {pk} LIMIT {BATCH})\n"
            f"-- repeated until it touches no rows (migrasafe plan writes such a backfill)")


def _copy_fix(ctx: Context, source: str) -> str:
    key = _primary_key(ctx, source)
    from ..plan.sql import ident, qualified

    pk = ident(key[0]) if len(key) == 1 else "<primary key>"
    return (f"-- copy in batches by the source's primary key, each batch its own transaction, outside the DDL "
            f"transaction:\n-- INSERT INTO <target> SELECT ... FROM {qualified(source)} WHERE {pk} > :last_copied "
            f"ORDER BY {pk} LIMIT {BATCH};")
