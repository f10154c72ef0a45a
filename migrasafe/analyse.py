"""Judge one migration statement by statement against the schema left by earlier ones."""
from __future__ import annotations

import os
import sys

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT

from . import packed
from .catalog import Catalog
from .catalog.apply import apply
from .catalog.system import is_system
from .catalog.unparsed import note_unparsed_create
from .config import Config
from .locks import impact as lock_impact
from .locks.modes import strongest
from .model import AnalysedStatement, Finding, Impact, Lock, Migration, MigrationResult, Statement, severity_rank
from .records import Shared
from .routines import note_created
from .rules import Context
from .rules.lock_line import lock_line
from .rules.registry import find_rule
from .selection import RuleSelection, make_finding  # noqa: F401 - imported from here too
from .transaction import TxState, renamed_relation


def analyse_migration(migration: Migration, catalog: Catalog, config: Config,
                      selection: RuleSelection, session: TxState | None = None, *,
                      resume_at: int = 0, pause_at: int | None = None) -> MigrationResult:
    """`session` is the connection state the previous migration of the same run left, for tools
    that run several migrations on one connection; it is updated in place.

    A migration can also be judged in parts (migrasafe/parallel): `pause_at` stops before the
    first statement from that index on that runs outside a transaction (`result.paused_at`,
    with `session` as it was there); `resume_at` starts at such a statement, from the `session`
    and the catalog as the statements before it left them (`splittable` says which migrations
    can be)."""
    if resume_at:
        tx = session
        result = MigrationResult(migration=migration)
    else:
        catalog.migration = migration.unit
        catalog.search_path = ["public"]  # SET search_path lasts one session: one file
        result = MigrationResult(migration=migration, findings=selection.admit(migration.findings))
        tx = enter_migration(migration, session if session is not None else TxState())
    one_query = bool(migration.meta.get("implicit_transaction"))
    blocks = migration.meta.get("query_blocks") or ()
    shared = Shared()
    if not isinstance(migration.statements, list) or len(migration.statements) >= packed.PACK_AT:
        packed.pack(migration, result)
        shared = Shared(recent=packed.RECENT_IMPACTS)
    statements = migration.statements
    for position, stmt in enumerate(with_trees(statements, resume_at, pause_at), resume_at):
        if pause_at is not None and position >= pause_at and not tx.open:
            result.paused_at = position
            break
        if blocks:
            _enter_query_block(tx, blocks, stmt)
        if one_query and not tx.open and stmt.index > 0:
            # After a COMMIT inside one multi-statement query, PostgreSQL runs the statements left
            # in a new implicit transaction block (CONCURRENTLY still fails there).
            tx.begin(line=stmt.line, explicit=False)
        if stmt.node is None:
            f = make_finding("MS000", stmt.parse_error or "syntax error", path=migration.path, line=stmt.line,
                             column=stmt.column, statement_index=stmt.index, selection=selection)
            analysed = AnalysedStatement(stmt, lock_impact(None, catalog, pg_version=config.pg_version),
                                         in_transaction=tx.open)
            analysed.findings.extend([f] if f else [])
            shared.keep_little(analysed)
            result.statements.append(analysed)
            migration.broken = True
            note_unparsed_create(catalog, stmt.sql)  # a table it creates is new, not live
            continue
        try:
            analysed = _analyse_statement(stmt, migration, catalog, config, selection, tx, result.statements)
        except Exception as err:  # noqa: BLE001 - one statement's failure must not end the run
            analysed = AnalysedStatement(stmt, Impact(), in_transaction=tx.open)
            analysed.findings.append(internal_error(err, path=stmt.origin_path or migration.path, line=stmt.line,
                                                    column=stmt.column, statement_index=stmt.index))
            migration.broken = True
        shared.keep_little(analysed)
        result.statements.append(analysed)
    return result


# Trees are built a run of statements at a time, before any of the run is analysed: built
# between the analyses of one statement and the next, they took two fifths longer to build, and
# the analyses slowed down too (bench/run.py, the 20,000-statement file). A run is at most
# this many statements, or as many as hold this much text, so that only a few of a large file's
# trees exist at once (the analysis drops each one after its statement: records.py).
_RUN = 1024
_RUN_TEXT = 1 << 18


def splittable(migration: Migration) -> bool:
    """Whether the migration can be judged in parts: its statements run one by one, outside a
    transaction unless they open one (not one transaction, not one query, not in sent blocks)."""
    meta = migration.meta
    return (not migration.in_transaction and not meta.get("implicit_transaction") and not meta.get("query_blocks")
            and not meta.get("session") and isinstance(migration.statements, list)
            and len(migration.statements) < packed.PACK_AT)


def with_trees(statements, start: int = 0, batch_until: int | None = None, needs_tree=None):
    """The statements in order from `start`, each run's trees built when the run is reached (up
    to `batch_until`; after it, each tree when it is read); with `needs_tree`, only the trees
    of the statements it accepts."""
    count = len(statements)
    if batch_until is not None and batch_until < count:
        yield from with_trees(statements[:batch_until], start, needs_tree=needs_tree)
        yield from statements[max(start, batch_until):]
        return
    while start < count:
        run = statements[start:start + _RUN]  # held while it is analysed: a packed row's tree lives in its view
        text = 0
        for taken, stmt in enumerate(run, 1):
            sql = stmt.sql
            if needs_tree is None or needs_tree(sql):
                stmt.node
            text += len(sql)
            if text > _RUN_TEXT:
                del run[taken:]
                break
        start += len(run)
        yield from run


def _enter_query_block(tx: TxState, blocks, stmt) -> None:
    """A file sent statement by statement, except runs of statements sent in one piece (goose's
    StatementBegin/End blocks, the Supabase CLI's batches): each run is one implicit transaction
    from its first statement (or the one after a COMMIT in it) to its last; outside the runs,
    statements autocommit. A BEGIN in a run makes the transaction explicit: it outlives the run."""
    block = next((tuple(b) for b in blocks if b[0] <= stmt.index <= b[1]), None)
    if tx.open and not tx.explicit and tx.query_block is not None and tx.query_block != block:
        tx.end()
    if block is not None and not tx.open:
        tx.begin(line=stmt.line, explicit=False)
        tx.query_block = block


def _analyse_statement(stmt, migration, catalog, config, selection, tx, earlier) -> AnalysedStatement:
    block = _do_block(stmt) if isinstance(stmt.node, ast.DoStmt) else None
    if block is not None:
        return _analyse_block(stmt, block, migration, catalog, config, selection, tx, earlier)
    imp = lock_impact(stmt.node, catalog, pg_version=config.pg_version,
                      timezone_utc=tx.timezone_utc(config.timezone_utc))
    _drop_absent_locks(imp, catalog)
    analysed = AnalysedStatement(stmt, imp, in_transaction=tx.open)
    analysed.live = {l.relation for l in imp.locks if catalog.is_live(l.relation)}
    analysed.strong_lock_held = tx.open and bool(tx.blocking_held())
    analysed.findings = _judge(stmt, imp, analysed, migration, catalog, config, selection, tx, earlier,
                               live=analysed.live)
    if catalog.routines:
        analysed.findings += _judge_calls(stmt, migration, catalog, config, selection, tx, earlier)
    _advance(tx, stmt, imp, catalog, analysed.live)
    apply(catalog, stmt.node)
    note_created(catalog, stmt, migration.path)
    return analysed


def internal_error(err: BaseException, *, path: str, line: int, column: int = 1,
                   statement_index: int | None = None) -> Finding:
    """MS088: the analysis of one statement (or migration) stopped on an unexpected error.
    Always reported, whatever is selected: the check is incomplete (exit 2)."""
    if os.environ.get("MIGRASAFE_DEBUG") == "1":
        import traceback

        traceback.print_exception(err, file=sys.stderr)
    message = (f"migrasafe failed to analyse this statement ({type(err).__name__}: {_one_line(err)}); "
               "its locks and rewrites are unknown and the statements after it are checked without its changes")
    return make_finding("MS088", message, path=path, line=line, column=column, statement_index=statement_index,
                        fix="This is a bug in migrasafe: please report it with this statement and the message "
                            "(MIGRASAFE_DEBUG=1 shows the traceback); review the statement by hand until then.")


def _one_line(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split()) or "no message"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _judge(stmt, imp, analysed, migration, catalog, config, selection, tx, earlier, shift=None,
           live=None, *, rules=None, run_by="", at=None, variables=frozenset()) -> list[Finding]:
    """The findings of every rule that fires on one statement. For a statement inside a DO block,
    `shift` is where its text starts in the block's (-1: not found), to underline it there.
    `live`: the relations of its locks that are live, when they are known already. For a
    statement of a routine's body judged at its call (_judge_calls): only these `rules`, the
    message saying where it is written (`run_by`), underlining `at` (the call) instead."""
    found = []
    ctx = Context(migration, stmt, imp, catalog, tx, config, earlier, live, run_by=run_by, variables=variables)
    for rule_id, detect in selection.detectors(stmt.node):
        if rules is not None and rule_id not in rules:
            continue
        for hit in detect(ctx) or ():
            if rule_id in ROW_COST_RULES and tx.open and hit.relation in tx.emptied:
                continue  # truncated earlier in this transaction: nothing to read or rewrite
            span = hit.span if rules is None else at
            if rules is None and shift is not None:
                if shift < 0:
                    span = None
                elif span is None:
                    span = (shift, shift + len(stmt.sql))
                else:
                    span = (span[0] + shift, span[1] + shift)
            f = make_finding(rule_id, hit.message, path=stmt.origin_path or migration.path, line=stmt.line,
                             column=stmt.column, fix=_fix_for(migration, rule_id, hit.fix),
                             lock=lock_line(analysed, hit.relation, tx.until() if tx.query_block else None),
                             statement_index=stmt.index, span=span, selection=selection,
                             severity=hit.severity)
            if f:
                found.append(f)
    return found


# The rules that judge the data changes of a routine's body at the call that runs them: the
# others are about what a migration writes, which a body it calls does not show.
BODY_RULES = frozenset({"MS030", "MS033", "MS034"})


def _judge_calls(stmt, migration, catalog, config, selection, tx, earlier, shift=None) -> list[Finding]:
    """The UPDATE, INSERT and DELETE statements of the routines a statement calls, judged as if
    written at the call: they run there, in its transaction, under the locks it already holds."""
    from .routines import called
    from .rules.locking import data_changes

    found: dict[tuple[str, str], Finding] = {}
    here = stmt.origin_path or migration.path
    for inner in called(stmt.node, catalog):
        changes = data_changes(inner.node)
        if not changes or all(inner.makes(_target(change, catalog)) for change in changes):
            continue
        body = Statement(index=stmt.index, sql=inner.sql, line=stmt.line, column=stmt.column,
                         end_line=stmt.end_line, node=inner.node, origin_path=stmt.origin_path,
                         in_do_block=stmt.in_do_block)
        imp = lock_impact(inner.node, catalog, pg_version=config.pg_version,
                          timezone_utc=tx.timezone_utc(config.timezone_utc))
        _drop_absent_locks(imp, catalog)
        if inner.own_tables:
            _drop_locks(imp, inner.makes)
        view = AnalysedStatement(body, imp, in_transaction=tx.open)
        kind = "procedure" if inner.routine.procedure else "function"
        run_by = f" in {kind} {inner.routine_name} ({inner.place(here)})"
        at = None
        if inner.at >= 0 and (shift is None or shift >= 0):
            name = inner.routine.name.split(".", 1)[1]
            start = inner.at + (shift or 0)
            at = (start, start + len(name)) if stmt.sql[inner.at:inner.at + len(name)].lower() == name else None
        for f in _judge(body, imp, view, migration, catalog, config, selection, tx, earlier, rules=BODY_RULES,
                        run_by=run_by, at=at):
            first = found.setdefault((f.rule, f.lock.partition(" — ")[0] or str(id(f))), f)
            if first is not f:  # the same table judged the same way again: one finding names every place
                first.message += f"; so does the {_verb(changes[0], inner.node)} at {inner.place(here)}"
                first.lock = max(first.lock, f.lock, key=len)  # the one that says rows stay locked
    return list(found.values())


def _target(change, catalog: Catalog) -> str:
    rv = change.relation
    return catalog.qualify(rv.schemaname, rv.relname)


def _verb(change, node) -> str:
    verb = type(change).__name__.removesuffix("Stmt").upper()
    return verb if change is node else f"{verb} in a WITH"


# Rules whose cost is the table's rows: moot for a table this transaction truncated. Not MS026:
# what it reports is also the running application's INSERTs that fail from the commit on, which
# an empty table does not spare.
ROW_COST_RULES = frozenset({"MS001", "MS003", "MS010", "MS011", "MS012", "MS020", "MS021", "MS022", "MS023",
                            "MS024", "MS030", "MS033", "MS034"})


def _note_emptied(tx: TxState, node, catalog: Catalog, line: int) -> None:
    """TRUNCATE leaves the table empty for the rest of the transaction (its lock keeps writers
    out); an INSERT ... SELECT fills it again. A DELETE without WHERE does not count: every
    tuple stays in the heap until the commit, so a scan, rewrite or index build later in the
    transaction still reads every page (CREATE INDEX even indexes the deleted tuples)."""
    if not tx.open:
        return
    if isinstance(node, ast.TruncateStmt):
        for rv in node.relations or ():
            for name in catalog.family(catalog.qualify(rv.schemaname, rv.relname)):
                tx.emptied.setdefault(name, line)
    elif isinstance(node, ast.InsertStmt) and node.relation is not None:
        sel = node.selectStmt
        if isinstance(sel, ast.SelectStmt) and sel.valuesLists is None:
            tx.emptied.pop(catalog.qualify(node.relation.schemaname, node.relation.relname), None)


def _drop_absent_locks(imp: Impact, catalog: Catalog) -> None:
    """The locks worth listing are on user relations that are there: not on the system
    catalogs (an UPDATE of pg_index), nor on a relation the history dropped (ALTER TABLE IF
    EXISTS of it locks nothing)."""
    def absent(name: str) -> bool:
        return is_system(name) or (name in catalog.dropped and name not in catalog.relations)

    _drop_locks(imp, absent)


def _drop_locks(imp: Impact, absent) -> None:
    for lock in imp.locks:  # a loop, not any(): most statements have one lock and none absent
        if absent(lock.relation):
            imp.locks = [lock for lock in imp.locks if not absent(lock.relation)]
            imp.rewrites = [r for r in imp.rewrites if not absent(r)]
            imp.scans = [r for r in imp.scans if not absent(r)]
            return


def _fix_for(migration: Migration, rule_id: str, fix: str) -> str:
    if migration.format != "django":
        return fix
    from .rules.django_fixes import django_fix  # the operations that do it the Django way

    return django_fix(rule_id, fix)


def _do_block(stmt):
    from .doblocks import read_block  # PL/pgSQL reading, for the migrations that have a DO block

    return read_block(stmt)


def _analyse_block(stmt, block, migration, catalog, config, selection, tx, earlier) -> AnalysedStatement:
    """A DO block: its statements checked one by one, in the one transaction the block runs in;
    the block's own locks and rewrites are all of theirs together."""
    merged = Impact()
    analysed = AnalysedStatement(stmt, merged, in_transaction=tx.open)
    analysed.strong_lock_held = tx.open and bool(tx.blocking_held())
    implicit = not tx.open
    if implicit:
        tx.begin(line=stmt.line, explicit=False)  # a DO outside a transaction is its own
    modes: dict[str, str] = {}
    for inner in block.statements:
        imp = lock_impact(inner.node, catalog, pg_version=config.pg_version,
                          timezone_utc=tx.timezone_utc(config.timezone_utc))
        for lock in imp.locks:
            modes[lock.relation] = strongest([modes[lock.relation], lock.mode]) if lock.relation in modes else lock.mode
        merged.index_locks += [l for l in imp.index_locks if l not in merged.index_locks]
        merged.rewrites += [r for r in imp.rewrites if r not in merged.rewrites]
        merged.scans += [r for r in imp.scans if r not in merged.scans]
        merged.notes.update(imp.notes)
        at = stmt.sql.find(inner.sql)
        inner_view = AnalysedStatement(inner, imp, in_transaction=True)
        analysed.findings += _judge(inner, imp, inner_view, migration, catalog, config, selection, tx, earlier,
                                    shift=at, variables=block.variables)
        if catalog.routines:
            analysed.findings += _judge_calls(inner, migration, catalog, config, selection, tx, earlier, shift=at)
        _advance(tx, inner, imp, catalog)
        apply(catalog, inner.node)
        note_created(catalog, inner, migration.path)
    if implicit:
        tx.end()
    merged.locks = [Lock(relation, mode) for relation, mode in modes.items()]
    analysed.live = {l.relation for l in merged.locks if catalog.is_live(l.relation)}
    messages = []
    if block.dynamic_lines:
        lines = ", ".join(str(line) for line in block.dynamic_lines)
        messages.append(f"the DO block runs SQL built at run time (EXECUTE, line {lines}), which is not checked")
    if block.unread_lines:
        lines = ", ".join(str(line) for line in block.unread_lines)
        messages.append(f"the DO block has statements only PL/pgSQL can read (line {lines}), which are not checked")
    if block.error:
        messages.append(f"the DO block's body is not valid PL/pgSQL, so its statements are not checked: {block.error}")
    for message in messages:
        f = make_finding("MS089", message, path=stmt.origin_path or migration.path, line=stmt.line,
                         column=stmt.column, statement_index=stmt.index, selection=selection)
        analysed.findings += [f] if f else []
    return analysed


def enter_migration(migration: Migration, tx: TxState) -> TxState:
    """The transaction state as the migration's first statement runs.

    A new session first applies the settings the runner sends before any migration
    (`meta["session_setup"]`). A session that continues keeps its settings; its open transaction
    also continues when `meta["shared_transaction"]` says the runner does not commit between
    migrations, so locks taken earlier are still held.
    """
    label = f"revision {migration.meta['revision']}" if migration.meta.get("revision") else migration.path
    if tx.last_migration is None:
        for stmt in migration.meta.get("session_setup", ()):
            if stmt.node is not None:
                tx.control(stmt.node, stmt.line)
    elif migration.meta.get("shared_transaction") and tx.open:
        tx.carry_over(tx.last_migration)
        tx.last_migration = label
        return tx
    else:
        tx.end()
    if migration.in_transaction:
        tx.begin(line=1, explicit=False)
    tx.last_migration = label
    return tx


def _advance(tx: TxState, stmt, imp, catalog: Catalog, live=None) -> None:
    """Carry the transaction state past this statement; `live`: the relations of its locks that
    are live, when they are known already."""
    if tx.control(stmt.node, stmt.line):
        return
    for lock in imp.locks:
        if lock.relation in live if live is not None else catalog.is_live(lock.relation):
            tx.hold(lock.relation, lock.mode)
            rel = catalog.get(lock.relation)
            if rel is not None and rel.kind == "sequence":
                if tx.open:
                    tx.sequences.add(lock.relation)
                continue
            if lock.mode == "AccessExclusiveLock" and not isinstance(stmt.node, ast.LockStmt) and tx.open:
                tx.exclusive_ddl.setdefault(lock.relation, stmt.line)
    node = stmt.node
    renamed = renamed_relation(node, catalog)
    if renamed is not None and tx.open:
        tx.renamed(*renamed)
    _note_emptied(tx, node, catalog, stmt.line)
    if tx.open and isinstance(node, (ast.CreateEnumStmt, ast.AlterEnumStmt)):
        _note_enum_change(tx, node, catalog, stmt.line)
    if tx.open and isinstance(node, ast.AlterTableStmt):
        table = catalog.qualify(node.relation.schemaname, node.relation.relname)
        for cmd in node.cmds or ():
            if cmd.subtype == AT.AT_AddConstraint and getattr(cmd.def_, "skip_validation", False):
                name = cmd.def_.conname
                if name:
                    tx.not_valid[(table, name)] = stmt.line


def _note_enum_change(tx: TxState, node, catalog: Catalog, line: int) -> None:
    """Labels added in the transaction cannot be used before it commits, unless their type is
    new in it too (rules/enums.py)."""
    from .catalog.names import dotted

    type_name = catalog.qualify_type(*dotted(node.typeName))
    if isinstance(node, ast.CreateEnumStmt):
        tx.types_created.add(type_name)
    elif node.newVal and not node.oldVal:
        tx.new_enum_values.setdefault((type_name, node.newVal), line)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.column, -severity_rank(f.severity), f.rule))
