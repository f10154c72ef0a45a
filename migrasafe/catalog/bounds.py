"""Partition bounds as plain Python values, so the lock model can tell which partitions a
statement with constant keys reaches (PostgreSQL locks only those)."""
from __future__ import annotations

from pglast import ast

from .names import strval

MINVALUE, MAXVALUE = "minvalue", "maxvalue"


def constant(node):
    """The Python value of a literal (through casts), or None when it is not one."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and not node.isnull and node.val is not None:
        val = node.val
        for attr in ("ival", "fval", "sval", "boolval"):
            if hasattr(val, attr):
                v = getattr(val, attr)
                return float(v) if attr == "fval" else v
    if isinstance(node, ast.ColumnRef) and len(node.fields) == 1:
        word = strval(node.fields[0]).lower()
        if word in (MINVALUE, MAXVALUE):
            return word
    return None


def partition_bound(spec: ast.PartitionBoundSpec) -> tuple:
    if spec.is_default:
        return ("default",)
    if spec.strategy == "r":
        return ("range", tuple(constant(d) for d in spec.lowerdatums or ()),
                tuple(constant(d) for d in spec.upperdatums or ()))
    if spec.strategy == "l":
        return ("list", tuple(constant(d) for d in spec.listdatums or ()))
    return ("hash",)


def holds(bound: tuple, value) -> bool | None:
    """Does a partition with this bound take rows whose (single) key is `value`?

    None when it cannot be told (unknown bound, hash partitioning, mixed value types).
    """
    if not bound or value is None:
        return None
    try:
        if bound[0] == "list":
            return value in bound[1]
        if bound[0] == "range" and len(bound[1]) == 1:
            low, high = bound[1][0], bound[2][0]
            above = low == MINVALUE or (low is not None and low <= value)
            below = high == MAXVALUE or (high is not None and value < high)
            return above and below
    except TypeError:
        return None
    return None


def overlaps(bound: tuple, low, high) -> bool | None:
    """Could rows with low <= key < high (None: unbounded) be in this partition?"""
    if not bound or bound[0] != "range" or len(bound[1]) != 1:
        return None
    b_low, b_high = bound[1][0], bound[2][0]
    try:
        if high is not None and b_low not in (MINVALUE, None) and high <= b_low:
            return False
        if low is not None and b_high not in (MAXVALUE, None) and low >= b_high:
            return False
    except TypeError:
        return None
    return True
