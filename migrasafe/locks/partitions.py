"""Which partitions a query reaches. PostgreSQL locks only the partitions left after planning:
an INSERT locks the partitions its rows are routed to, and a WHERE on the partition key with
constants prunes the others before they are locked.

Anything not understood here reaches every partition, which is what PostgreSQL does too when
it cannot prune.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.primnodes import BoolExprType

from ..catalog.bounds import constant, holds, overlaps
from ..catalog.names import strval
from ..catalog.state import Catalog, Relation


def routed(catalog: Catalog, rel: Relation, node: ast.InsertStmt) -> list[str] | None:
    """Partitions (at any depth) that the rows of INSERT ... VALUES go to; None: unknown."""
    select = node.selectStmt
    if not isinstance(select, ast.SelectStmt) or select.valuesLists is None or len(rel.partition_key) != 1:
        return None
    key = rel.partition_key[0]
    columns = [t.name for t in node.cols] if node.cols else list(rel.columns)
    if key not in columns:
        return None
    position = columns.index(key)
    out: list[str] = []
    for row in select.valuesLists:
        if position >= len(row):
            return None
        target = partition_for(catalog, rel, constant(row[position]))
        if target is None:
            return None
        for name in target:
            if name not in out:
                out.append(name)
    return out


def partition_for(catalog: Catalog, rel: Relation, value) -> list[str] | None:
    children = [catalog.get(c) for c in rel.partitions]
    if value is None or any(c is None for c in children):
        return None
    chosen = None
    for child in children:
        verdict = holds(child.bound, value)
        if verdict is None and child.bound != ("default",):
            return None
        if verdict:
            chosen = child
            break
    if chosen is None:
        chosen = next((c for c in children if c.bound == ("default",)), None)
    if chosen is None:
        return None
    if chosen.kind == "partitioned":
        return None  # sub-partitions route on their own keys: not followed
    return [chosen.name]


def pruned(catalog: Catalog, rel: Relation, where) -> list[str] | None:
    """Partitions left after pruning by the WHERE clause; None: no pruning."""
    if where is None or len(rel.partition_key) != 1:
        return None
    key = rel.partition_key[0]
    conditions = _conjuncts(where)
    low = high = None
    equal: list | None = None
    for cond in conditions:
        found = _key_condition(cond, key)
        if found is None:
            continue
        op, value = found
        if op == "=":
            equal = [value]
        elif op == "in":
            equal = value
        elif op in (">=", ">"):
            low = value if low is None else max(low, value)
        elif op == "<":  # `<=` keeps a partition starting at the value: not used to prune
            high = value if high is None else min(high, value)
    if equal is None and low is None and high is None:
        return None
    out = []
    for name in rel.partitions:
        child = catalog.get(name)
        if child is None:
            return None
        if equal is not None:
            verdicts = [holds(child.bound, v) for v in equal]
            if child.bound == ("default",):
                # Pruned when another partition holds every value asked for.
                keep = not all(_held_elsewhere(catalog, rel, v) for v in equal)
            elif any(v is None for v in verdicts):
                return None
            else:
                keep = any(verdicts)
        else:
            verdict = overlaps(child.bound, low, high)
            if verdict is None and child.bound != ("default",):
                return None
            keep = verdict is not False
        if keep:
            out.extend(catalog.family(name))
    return out


def _held_elsewhere(catalog: Catalog, rel: Relation, value) -> bool:
    for name in rel.partitions:
        child = catalog.get(name)
        if child is not None and child.bound != ("default",) and holds(child.bound, value):
            return True
    return False


def _conjuncts(expr):
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        out = []
        for arg in expr.args:
            out.extend(_conjuncts(arg))
        return out
    return [expr]


def _key_condition(expr, key: str):
    if not isinstance(expr, ast.A_Expr):
        return None
    kind = expr.kind.name
    column = expr.lexpr
    if not (isinstance(column, ast.ColumnRef) and strval(column.fields[-1]) == key):
        return None
    if kind == "AEXPR_OP":
        op = strval(expr.name[-1])
        value = constant(expr.rexpr)
        if op in ("=", ">=", ">", "<", "<=") and value is not None:
            return op, value
    if kind == "AEXPR_IN" and isinstance(expr.rexpr, (list, tuple)):
        values = [constant(v) for v in expr.rexpr]
        if all(v is not None for v in values):
            return "in", values
    return None
