"""What a CHECK constraint says about the values a column may take, when it says it simply.

`status IN ('new', 'paid')` gives the list of values, `amount > 0` and `qty BETWEEN 1 AND 99`
give bounds, `length(code) <= 8` a maximum length. Anything else gives no hint; the seeder then
still filters its rows through the constraint itself, so hints only make fewer rows fall out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums.parsenodes import A_Expr_Kind
from pglast.stream import RawStream


@dataclass
class Hint:
    values: list[str] = field(default_factory=list)  # SQL literals
    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    high_inclusive: bool = True
    max_length: int | None = None

    def merge(self, other: Hint) -> None:
        if other.values:
            self.values = other.values if not self.values else [v for v in self.values if v in other.values] or other.values
        if other.low is not None and (self.low is None or other.low > self.low):
            self.low, self.low_inclusive = other.low, other.low_inclusive
        if other.high is not None and (self.high is None or other.high < self.high):
            self.high, self.high_inclusive = other.high, other.high_inclusive
        if other.max_length is not None:
            self.max_length = min(self.max_length or other.max_length, other.max_length)


def check_hints(expression: str) -> dict[str, Hint]:
    try:
        statement = parse_sql(f"SELECT {expression}")[0].stmt
    except Exception:  # an expression pglast cannot parse gives no hint; the filter still applies
        return {}
    return hints_of(statement.targetList[0].val)


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def hints_of(node) -> dict[str, Hint]:
    if isinstance(node, ast.BoolExpr):
        parts = [hints_of(arg) for arg in node.args]
        if node.boolop == 0:  # AND
            out: dict[str, Hint] = {}
            for part in parts:
                for column, hint in part.items():
                    out.setdefault(column, Hint()).merge(hint)
            return out
        if node.boolop == 1 and parts and all(len(p) == 1 and next(iter(p.values())).values for p in parts):
            columns = {next(iter(p)) for p in parts}
            if len(columns) == 1:  # status = 'a' OR status = 'b'
                column = columns.pop()
                return {column: Hint(values=[v for p in parts for v in p[column].values])}
        return {}
    if isinstance(node, ast.A_Expr):
        return comparison_hint(node)
    return {}


def comparison_hint(node: ast.A_Expr) -> dict[str, Hint]:
    operator = node.name[-1].sval if node.name else ""
    left, right = node.lexpr, node.rexpr
    if node.kind == A_Expr_Kind.AEXPR_OP_ANY and operator == "=":
        column = column_name(left)
        array = strip_cast(right)
        if column and isinstance(array, ast.A_ArrayExpr) and array.elements:
            return {column: Hint(values=[deparse(e) for e in array.elements])}
        return {}
    if node.kind == A_Expr_Kind.AEXPR_IN and operator == "=":
        column = column_name(left)
        if column and isinstance(right, (list, tuple)):
            return {column: Hint(values=[deparse(e) for e in right])}
        return {}
    if node.kind in (A_Expr_Kind.AEXPR_BETWEEN,):
        column = column_name(left)
        if column and isinstance(right, (list, tuple)) and len(right) == 2:
            low, high = number(right[0]), number(right[1])
            if low is not None and high is not None:
                return {column: Hint(low=low, high=high)}
        return {}
    if node.kind != A_Expr_Kind.AEXPR_OP:
        return {}
    if operator == "=":
        column = column_name(left) or column_name(right)
        constant = right if column_name(left) else left
        if column and is_constant(constant):
            return {column: Hint(values=[deparse(constant)])}
        return {}
    if operator not in FLIPPED:
        return {}
    if column_name(right) and not column_name(left):
        left, right, operator = right, left, FLIPPED[operator]
    limit = number(right)
    if limit is None:
        return {}
    column = column_name(left)
    if column:
        if operator in (">", ">="):
            return {column: Hint(low=limit, low_inclusive=operator == ">=")}
        return {column: Hint(high=limit, high_inclusive=operator == "<=")}
    measured = length_of(left)
    if measured and operator in ("<", "<="):
        return {measured: Hint(max_length=int(limit) - (operator == "<"))}
    return {}


def column_name(node) -> str | None:
    node = strip_cast(node)
    if isinstance(node, ast.ColumnRef) and node.fields and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def length_of(node) -> str | None:
    node = strip_cast(node)
    if isinstance(node, ast.FuncCall) and node.funcname and node.args and len(node.args) == 1:
        if node.funcname[-1].sval in ("length", "char_length", "character_length", "octet_length"):
            return column_name(node.args[0])
    return None


def strip_cast(node):
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def is_constant(node) -> bool:
    return isinstance(strip_cast(node), ast.A_Const)


def number(node) -> float | None:
    node = strip_cast(node)
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.lexpr is None:
        inner = number(node.rexpr)  # unary minus
        return -inner if inner is not None and node.name[-1].sval == "-" else None
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.Integer):
        return float(value.ival)
    if isinstance(value, ast.Float):
        return float(value.fval)
    return None


def deparse(node) -> str:
    return RawStream()(node)
