"""Strong locks held too long, on too many tables, or taken without a lock_timeout."""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT

from ..locks.modes import blocks_reads, blocks_writes
from ..model import MigrationResult, severity_rank
from ..plan.sql import qualified
from ..timeouts import ceiling_ms, configured_ms, shown
from .base import Context, Hit, detects
from .keys import few_rows

_BACKFILLS = (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)
# Statements whose locks touch only what they create, or nothing at all.
_LOCK_FREE = (ast.CreateSchemaStmt, ast.CreateFunctionStmt, ast.CreateExtensionStmt, ast.CreateEnumStmt,
              ast.CompositeTypeStmt, ast.CreateDomainStmt, ast.VariableSetStmt, ast.TransactionStmt)


@detects("MS027", ast.RefreshMatViewStmt)
def refresh_matview_without_concurrently(ctx: Context):
    node = ctx.node
    if isinstance(node, ast.RefreshMatViewStmt) and not node.concurrent:
        name = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
        if ctx.live(name):
            yield Hit(f"REFRESH MATERIALIZED VIEW blocks every read of {name} until it finishes",
                      fix=(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {qualified(name)};"
                           f"  -- needs a unique index on {name}"),
                      relation=name, span=ctx.span_of("REFRESH"))


@detects("MS028", ast.TruncateStmt, ast.DeleteStmt, ast.InsertStmt, ast.UpdateStmt, ast.SelectStmt,
         ast.CreateTableAsStmt)
def truncate_table(ctx: Context):
    node = ctx.node
    for change in data_changes(node) if not isinstance(node, ast.TruncateStmt) else ():
        if not (isinstance(change, ast.DeleteStmt) and change.whereClause is None and change.usingClause is None):
            continue
        # Every row goes, as with TRUNCATE: the data loss is the same whatever the verb.
        table = ctx.catalog.qualify(change.relation.schemaname, change.relation.relname)
        if ctx.holds_rows(table):
            where = "" if change is node else " in a WITH"
            yield Hit(f"DELETE{where} without WHERE empties live table {table}",
                      fix="-- delete only the rows that must go (DELETE ... WHERE), in batches, or drop the "
                          "table after the application stopped using it", relation=table, span=ctx.span_of("DELETE"))
    if isinstance(node, ast.TruncateStmt):
        for table in _truncated(ctx):
            if ctx.live(table):
                yield Hit(f"TRUNCATE empties live table {table} under AccessExclusiveLock",
                          fix="-- delete in batches (DELETE ... WHERE pk BETWEEN ...), or drop the table "
                              "after the application stopped using it", relation=table, span=ctx.span_of("TRUNCATE"))


def _truncated(ctx: Context) -> list[str]:
    """The tables named, then those CASCADE reaches. A partitioned table has no storage of its own,
    so it is not among the rewrites (its partitions are, when the history created any): it is
    reported by its name, once, not once per partition."""
    named = [ctx.catalog.qualify(r.schemaname, r.relname) for r in ctx.node.relations or ()]
    covered = {p for table in named for p in ctx.catalog.inheritors(table)}
    return list(dict.fromkeys(named + [t for t in ctx.impact.rewrites if t not in covered]))


@detects("MS030", ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.SelectStmt, ast.CreateTableAsStmt)
def backfill_under_strong_lock(ctx: Context):
    node = ctx.node
    found = [(change, target) for change in data_changes(node)
             if (target := backfill_under_exclusive_lock(ctx, change)) is not None]
    if not found:
        return
    exclusive = ctx.tx.exclusive_held()
    # One finding for the statement: about the change to a table the lock is on, when one is.
    change, target = next(((c, t) for c, t in found if t in exclusive), found[0])
    held = ", ".join(f"{t} (line {line})" for t, line in exclusive.items())
    verb = type(change).__name__.replace("Stmt", "").upper()
    where = ctx.run_by + ("" if change is node else " in a WITH")
    yield Hit(f"{verb}{where} on live table {target} runs while this transaction holds AccessExclusiveLock on "
              f"{held}: every query on {next(iter(exclusive)) if len(exclusive) == 1 else 'any of them'} "
              f"waits for the whole backfill",
              fix=_after_the_ddl(ctx, change, target) if ctx.tx.exclusive_ddl
              else "-- backfill without the LOCK TABLE, in batches by primary key, each in a transaction of its own",
              relation=next(iter(exclusive)), span=(0, len(verb)) if change is node else ctx.span_of(verb))


def _after_the_ddl(ctx: Context, change, target: str) -> str:
    """The backfill moved after the DDL's commit, in batches, the way this layout runs a statement
    outside the migration's transaction (MS033's fix, which this finding takes the place of)."""
    from .batching import batched_fix

    if change is ctx.node:
        return batched_fix(ctx, change, target)
    return "-- commit the DDL first; backfill in batches by primary key in later transactions"


def data_changes(node) -> list:
    """The data changes a statement makes: itself when it is one, and those of its WITH (at any
    depth), which run to completion whether or not the statement reads their rows."""
    found = [node] if isinstance(node, _BACKFILLS) else []
    return found + list(data_modifying_ctes(node))


def data_modifying_ctes(node):
    """The INSERT, UPDATE and DELETE queries of a statement's WITH, and of theirs."""
    if isinstance(node, ast.CreateTableAsStmt):
        node = node.query
    with_clause = getattr(node, "withClause", None)
    for cte in (with_clause.ctes if with_clause is not None else ()) or ():
        query = cte.ctequery
        if isinstance(query, _BACKFILLS):
            yield query
            yield from data_modifying_ctes(query)


def backfill_under_exclusive_lock(ctx: Context, node) -> str | None:
    """The live table MS030 reports this data change on, or None. MS033 leaves these to it."""
    if not isinstance(node, _BACKFILLS) or not ctx.tx.open or not (ctx.tx.exclusive_ddl or ctx.tx.exclusive_lock):
        return None
    if isinstance(node, ast.InsertStmt) and not _insert_select(node):
        return None
    target = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
    if not ctx.holds_rows(target) or few_rows(ctx.catalog, node, target):
        return None
    return target


def _tables(ctx: Context, relations) -> set[str]:
    """The tables among these relations: the rule weighs the write traffic of live tables, so
    views and sequences locked along the way do not count, nor a sequence an earlier statement
    dropped. Unknown relations count as tables."""
    out = set()
    for name in relations:
        rel = ctx.catalog.get(name)
        if rel.is_table if rel is not None else name not in ctx.tx.sequences:
            out.add(name)
    return out


def _insert_select(node: ast.InsertStmt) -> bool:
    sel = node.selectStmt
    return isinstance(sel, ast.SelectStmt) and sel.valuesLists is None


@detects("MS031")
def multiple_strong_locks(ctx: Context):
    """Two kinds of exposure, weighed apart. Work (a scan or rewrite of a live table) while the
    transaction blocks writes on several live tables keeps all of them blocked for as long as it
    lasts: a warning. A catalog-only statement (ALTER ... ADD COLUMN, CREATE INDEX ON ONLY a
    parent, a foreign key from a table this migration created) holds the locks for moments; what
    remains is the wait for its own lock while the others are held, which a lock_timeout bounds,
    and a short-lived deadlock chance: an info."""
    if not ctx.tx.open:
        return
    blocking_now = _tables(ctx, [lock.relation for lock in ctx.live_locks() if blocks_writes(lock.mode)])
    already = _tables(ctx, ctx.tx.blocking_held())
    new = blocking_now - already
    tables = sorted(already | blocking_now)
    if len(tables) < 2:
        return
    worked = sorted(t for t in _tables(ctx, [*ctx.impact.scans, *ctx.impact.rewrites]) if ctx.holds_rows(t))
    if worked and _validates_own_constraint(ctx):
        return  # MS025 reports the validation of a constraint this transaction added
    shared = ""
    if ctx.migration.meta.get("shared_transaction"):
        # Separate revisions do not help while Alembic runs the whole upgrade in one transaction.
        shared = "\n-- and give each revision its own: context.configure(transaction_per_migration=True) in env.py"
    if worked:
        fix = "-- split the changes into separate transactions (separate migrations), one table each" + shared
        work = "rewrites" if any(t in ctx.impact.rewrites for t in worked) else "scans"
        yield Hit(f"this transaction blocks writes on {len(tables)} live tables ({', '.join(tables)}) while this "
                  f"statement {work} {', '.join(worked)}: all of them stay blocked until it finishes and the "
                  f"transaction commits, and each waits on the others' traffic, raising deadlock risk and downtime",
                  fix=fix, relation=(sorted(new) or worked)[0])
        return
    if not (new and already):
        return
    in_force, said_by = lock_timeout_in_force(ctx)
    if in_force and in_force <= ceiling_ms(ctx.config.max_lock_timeout):
        wait = f"lock_timeout {shown(in_force)} ({said_by}) bounds that wait"
    else:
        wait = "no lock_timeout bounds that wait (see MS032)"
    # LOCK TABLE changes nothing: it takes the lock that the statements after it need.
    does = "only takes its lock" if isinstance(ctx.node, ast.LockStmt) else "changes only the catalog"
    yield Hit(f"this transaction now blocks writes on {len(tables)} live tables ({', '.join(tables)}); this statement "
              f"{does}, so they stay blocked while its lock is awaited and until commit: {wait}",
              fix="-- keep the transaction short, or split it into separate migrations, one table each" + shared,
              relation=sorted(new)[0], severity="info")


def _validates_own_constraint(ctx: Context) -> bool:
    node = ctx.node
    if not isinstance(node, ast.AlterTableStmt) or not node.cmds:
        return False
    table = ctx.catalog.qualify(node.relation.schemaname, node.relation.relname)
    return all(cmd.subtype == AT.AT_ValidateConstraint and (table, cmd.name) in ctx.tx.not_valid
               for cmd in node.cmds)


@detects("MS032")
def missing_lock_timeout(ctx: Context):
    if isinstance(ctx.node, _LOCK_FREE):
        return
    strong = [lock for lock in ctx.live_locks() if blocks_writes(lock.mode) or blocks_reads(lock.mode)]
    # An index's: its table's queries open it, so they queue behind the request as well.
    on_index = None if strong else next((l for l in ctx.live_index_locks() if blocks_reads(l.mode)), None)
    if not strong and on_index is None:
        return
    in_force, said_by = lock_timeout_in_force(ctx)
    ceiling = ceiling_ms(ctx.config.max_lock_timeout)
    if in_force and in_force <= ceiling:
        return
    if in_force is None:
        timeout = "with no lock_timeout"
    elif in_force == 0:
        timeout = f"with lock_timeout 0 ({said_by}), which means no timeout"
    else:
        timeout = (f"with lock_timeout {shown(in_force)} ({said_by}), longer than the {shown(ceiling)} "
                   f"max_lock_timeout allows")
    if on_index is not None:
        table = on_index.table or "its table"
        yield Hit(f"{on_index.mode} on index {on_index.index} of live table {table} is requested {timeout}: while "
                  f"it waits, every later query on {table} queues behind it (queries open all of a table's "
                  f"indexes)", fix=_timeout_fix(ctx), relation=on_index.table or on_index.index, severity="warning")
        return
    lock, members = _widest(ctx, strong)
    queued = "query" if blocks_reads(lock.mode) else "write"
    # The lock-queue outage: while an ACCESS EXCLUSIVE request on a table waits, so does every
    # query on it. Weaker locks queue only writers and many such changes are otherwise safe.
    outage = lock.mode == "AccessExclusiveLock" and lock.relation in _tables(ctx, [lock.relation])
    if not blocks_reads(lock.mode) and any(l.table == lock.relation and blocks_reads(l.mode)
                                           for l in ctx.live_index_locks()):
        # REINDEX: once it holds the table's ShareLock, it waits for its index's exclusive lock
        # behind every open transaction that read the table, and new reads queue too.
        queued, outage = "query", True
    what = f"live table {lock.relation}"
    if members:
        every = members == len(ctx.catalog.family(lock.relation)) - 1
        what += f" and {'its ' if every else ''}{members}{'' if every else ' of its'} partition{'s' if members > 1 else ''}"
    yield Hit(f"{lock.mode} on {what} is requested {timeout}: while it waits, "
              f"every later {queued} on {lock.relation} queues behind it",
              fix=_timeout_fix(ctx), relation=lock.relation, severity="warning" if outage else "info")


def _timeout_fix(ctx: Context) -> str:
    return ("SET lock_timeout = '2s';  -- before the statement; " + _when_it_times_out(ctx) + "\n"
            "-- if the runner or the database role already sets one, say so in the configuration:\n"
            f"-- lock_timeout = \"5s\" under [tool.migrasafe], or {{ {ctx.migration.format} = \"5s\" }} for this "
            "layout only")


def _when_it_times_out(ctx: Context) -> str:
    """What to do when the lock is not granted in time, as the migration's own tool has it: some
    tools record the failure, and run nothing more until told (golang-migrate's dirty version)."""
    key = (ctx.migration.meta.get("runs_as") or ctx.migration.format, bool(ctx.migration.in_transaction))
    advice = _RERUN.get(key)
    if advice is None:
        from ..plan.writers import WRITERS

        writer = WRITERS.get(key[0])
        if writer is None:
            advice = "retry the migration if it times out"
        else:
            rerun = writer.rerun_outside if writer.rerun_outside and not key[1] else writer.rerun
            advice = "if it times out: " + rerun.format(previous="<the version before this one>")
        advice = _RERUN[key] = advice
    return advice


_RERUN: dict[tuple[str, bool], str] = {}


def _widest(ctx: Context, strong: list) -> tuple:
    """The lock to name, and how many partitions of its table the statement locks the same way:
    of the most blocking locks, the one on the table whose family holds most of them (a
    partitioned table, not one of its partitions), ties broken by name."""
    top = max(blocks_reads(l.mode) for l in strong)
    candidates = [l for l in strong if blocks_reads(l.mode) == top]
    # The table before a sequence it owns (DROP COLUMN of a serial locks both alike): queries
    # queue on the table.
    tables = _tables(ctx, [l.relation for l in candidates])
    candidates = [l for l in candidates if l.relation in tables] or candidates
    if len(candidates) == 1:
        return candidates[0], 0
    locked = {l.relation for l in candidates}

    def members(lock) -> int:
        return sum(1 for name in ctx.catalog.family(lock.relation)[1:] if name in locked)

    lock = max(candidates, key=lambda l: (members(l), l.relation))
    return lock, members(lock)


def lock_timeout_in_force(ctx: Context) -> tuple[int | None, str]:
    """(ms, who set it): the migration's own SET, else what the configuration says the runner
    or role sets for this layout; (None, "") when neither did."""
    own = ctx.tx.setting_ms("lock_timeout")
    if own is not None:
        return own, "set by the migration"
    configured = configured_ms(ctx.config.lock_timeout, ctx.migration.format)
    if configured is not None:
        return configured, "lock_timeout in the configuration"
    return None, ""


def fold_repeated_findings(result: MigrationResult) -> None:
    """MS031 and MS032 on the first statement of a migration only: the advice (one SET
    lock_timeout at the top; split the transaction) covers the statements after it, so more
    findings would repeat it. Runs after suppressions, so an ignored first one hands over."""
    _fold(result, "MS032", lambda n: f"{n} later statement{'s' if n > 1 else ''} of this migration "
                                     f"{'lock' if n > 1 else 'locks'} live tables the same way")
    _fold(result, "MS031", lambda n: f"{n} later statement{'s' if n > 1 else ''} of this migration "
                                     f"{'add' if n > 1 else 'adds'} more write-blocked tables")


def _fold(result: MigrationResult, rule: str, later_text) -> None:
    """Keep the first finding of the rule, and a later one only when it is more severe than
    every one kept so far (an ACCESS EXCLUSIVE request after a ShareLock one)."""
    first, later, loudest = None, 0, -1
    with_findings = getattr(result.statements, "with_findings", None)  # a large migration's (packed/)
    for analysed in with_findings() if with_findings is not None else result.statements:
        if not any(f.rule == rule for f in analysed.findings):
            continue
        kept = []
        for finding in analysed.findings:
            if finding.rule == rule:
                rank = severity_rank(finding.severity)
                if first is not None and rank <= loudest:
                    later += 1
                    analysed.folded += [finding]  # a statement without folded findings shares its list
                    continue
                first = first or finding
                loudest = max(loudest, rank)
            kept.append(finding)
        analysed.findings = kept
    if later:
        first.message += "; " + later_text(later)
