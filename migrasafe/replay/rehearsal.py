"""Which statements run more than once under SAVEPOINT ... ROLLBACK TO before the run that is kept.

The machine's other work only ever adds time, so the fastest of several runs is the steadiest
figure; it is worth its cost where a budget is judged on it: a statement whose lock blocks the
application's writes (or reads), and one whose reach the lock model cannot see (a DO block, a
procedure, a function call). A statement that blocks neither - ANALYZE, VALIDATE CONSTRAINT,
COMMENT, a SHARE UPDATE EXCLUSIVE ALTER TABLE - runs once: its time counts toward the
migration's total, and no lock budget depends on it. Data changes run once too: rolled back,
they leave dead rows behind that would slow what follows.
"""
from __future__ import annotations

from pglast import ast

from ..locks.modes import blocks_writes
from ..model import AnalysedStatement
from .touched import OPAQUE, Names

DATA_CHANGES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt) + ((ast.MergeStmt,) if hasattr(ast, "MergeStmt") else ())


def repeatable(analysed: AnalysedStatement) -> bool:
    """Can it be rolled back and run again without changing what follows?"""
    return not isinstance(analysed.statement.node, DATA_CHANGES)


def worth_rehearsing(analysed: AnalysedStatement) -> bool:
    node = analysed.statement.node
    if not repeatable(analysed):
        return False
    if node is None or isinstance(node, OPAQUE):
        return True
    if any(blocks_writes(lock.mode) for lock in analysed.impact.locks):
        return True
    names = Names()
    names(node)
    return names.calls  # a function can take any lock
