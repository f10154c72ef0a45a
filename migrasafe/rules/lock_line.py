"""The lock line of a finding: the lock its statement takes on the relation the finding is about,
until when, what it blocks, and whether it rewrites or scans the table."""
from __future__ import annotations

from pglast import ast

from ..locks.modes import blocks_reads, describe_blocking, level
from ..model import AnalysedStatement


def lock_line(analysed: AnalysedStatement, relation: str | None, until: str | None = None) -> str:
    locks = analysed.impact.locks
    until = until or ("until commit" if analysed.in_transaction else "until the statement ends")
    if not locks:
        return _index_lock_line(analysed.impact.index_locks, until)
    chosen = next((l for l in locks if l.relation == relation), None) or max(locks, key=lambda l: level(l.mode))
    text = f"{chosen.mode} on {chosen.relation} {until} — {describe_blocking(chosen.mode)}"
    if not blocks_reads(chosen.mode):
        indexes = [l for l in analysed.impact.index_locks if l.table == chosen.relation and blocks_reads(l.mode)]
        if indexes:  # REINDEX: ShareLock on the table, the index itself exclusively
            which = f"its index {indexes[0].index}" if len(indexes) == 1 else f"its {len(indexes)} indexes"
            text += (f", and {indexes[0].mode} on {which} makes its reads wait too "
                     "(a query opens every index of the table it is planned on)")
    if _changes_rows_of(analysed.statement.node, chosen.relation):
        # The table lock lets other writers in; the row locks the change takes do not.
        text += f", but the rows it changes stay locked against other writers {until}"
    if chosen.relation in analysed.impact.rewrites:
        text += "; rewrites the table"
    elif chosen.relation in analysed.impact.scans:
        text += "; scans the table"
    return text


def _index_lock_line(index_locks, until: str) -> str:
    if not index_locks:
        return ""
    chosen = max(index_locks, key=lambda l: level(l.mode))
    of = f" of {chosen.table}" if chosen.table else ""
    if blocks_reads(chosen.mode):
        table = chosen.table or "its table"
        effect = f"every query planned on {table} waits, as it opens all of the table's indexes"
    else:
        effect = describe_blocking(chosen.mode)
    return f"{chosen.mode} on index {chosen.index}{of} {until} — {effect}"


def _changes_rows_of(node, relation: str) -> bool:
    """Whether an UPDATE, DELETE or MERGE (written, or in a WITH) changes rows of `relation`."""
    from .locking import data_changes

    if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.SelectStmt, ast.InsertStmt)):
        return False
    changes = data_changes(node) + ([node] if isinstance(node, ast.MergeStmt) else [])
    name = relation.rpartition(".")[2]
    return any(isinstance(change, (ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt))
               and change.relation is not None and change.relation.relname == name for change in changes)
