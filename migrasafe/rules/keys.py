"""How much of a table a WHERE clause can reach: one row (a unique key set to constants), a
bounded range of a key (one batch), or an unbounded share of the table.

MS030 and MS033 share these answers, so that a statement one of them calls quick the other
does too. The one difference is a DO block's PL/pgSQL variables, which MS033 passes as
`variables` and counts as constants: a statement keyed by one changes one row each time it
runs, but under MS030's lock the loop that runs it holds the lock for all of its rows.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import A_Expr_Kind
from pglast.enums.primnodes import BoolExprType, SubLinkType

from ..catalog.state import Catalog

_LOWER = {">": "lower", ">=": "lower", "<": "upper", "<=": "upper"}
_FLIP = {"lower": "upper", "upper": "lower"}


def unique_keys(catalog: Catalog, table: str) -> list[tuple[str, ...]]:
    """Column lists of the table's primary key, unique constraints and full unique indexes."""
    rel = catalog.get(table)
    if rel is None:
        return []
    keys = [c.columns for c in rel.constraints.values() if c.kind in ("p", "u")]
    # The relation lists its indexes: a lookup each rather than a scan of every index.
    indexes = (catalog.indexes.get(name) for name in rel.indexes)
    keys += [i.columns for i in indexes
             if i is not None and i.table == table and i.unique and i.valid and not i.partial]
    return [k for k in keys if k]


# A list this long on a unique key changes as few rows as a statement per row would.
FEW_ROWS = 100


def few_rows(catalog: Catalog, node, table: str, variables: frozenset[str] = frozenset()) -> bool:
    """An UPDATE or DELETE whose WHERE sets every column of a unique key to a constant, one of
    them possibly to one of a list of at most FEW_ROWS constants (`id IN (1, 2)`), changes that
    many rows at most: quick, not a backfill. `variables`: the PL/pgSQL names in scope, which
    count as constants (`WHERE id = rec.id` in a loop changes one row each time)."""
    if isinstance(node, ast.InsertStmt) or getattr(node, "fromClause", None) or getattr(node, "usingClause", None):
        return False
    where = node.whereClause
    pinned = pinned_columns(where, variables=variables)
    keys = unique_keys(catalog, table)
    if pinned and any(set(key) <= pinned for key in keys):
        return True
    return any(set(key) <= pinned | {listed} for listed in _listed_columns(where) for key in keys)


def _listed_columns(where) -> set[str]:
    """Columns the top-level AND of `where` puts IN (or = ANY of an ARRAY of) a short list of
    constants."""
    listed = set()
    for term in and_terms(where):
        if not isinstance(term, ast.A_Expr) or len(term.name) != 1 or term.name[0].sval != "=":
            continue  # NOT IN is <>
        if term.kind == A_Expr_Kind.AEXPR_IN:
            values = term.rexpr
        elif term.kind == A_Expr_Kind.AEXPR_OP_ANY and isinstance(term.rexpr, ast.A_ArrayExpr):
            values = term.rexpr.elements
        else:
            continue
        name = _column(term.lexpr)
        if name is not None and isinstance(values, (list, tuple)) and 0 < len(values) <= FEW_ROWS \
                and all(_is_value(v, set()) for v in values):
            listed.add(name)
    return listed


def and_terms(where) -> tuple:
    if where is None:
        return ()
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return tuple(t for arg in where.args for t in and_terms(arg))
    return (where,)


def _column(node) -> str | None:
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def _row_lead(node) -> str | None:
    """The first column of a row of columns, `(org, member)`: a bound on the row bounds it."""
    if isinstance(node, ast.RowExpr) and node.args and all(_column(a) for a in node.args):
        return _column(node.args[0])
    return None


def _operator(term) -> str | None:
    if isinstance(term, ast.A_Expr) and term.kind == A_Expr_Kind.AEXPR_OP and len(term.name) == 1:
        return term.name[0].sval
    return None


def _is_variable(node, variables: frozenset[str]) -> bool:
    """A PL/pgSQL variable of the block, or a field of one (`rec.id` of a FOR loop's record)."""
    return (bool(variables) and isinstance(node, ast.ColumnRef) and len(node.fields) <= 2
            and isinstance(node.fields[0], ast.String) and node.fields[0].sval in variables)


def _is_value(node, columns: set[str], variables: frozenset[str] = frozenset()) -> bool:
    """A constant, a parameter, a PL/pgSQL variable, or a name that is not one of the table's
    columns (a variable of a batching loop): something fixed while the statement runs."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const):
        return not node.isnull
    if isinstance(node, ast.ParamRef) or _is_variable(node, variables):
        return True
    name = _column(node)
    return name is not None and len(node.fields) == 1 and bool(columns) and name not in columns


def pinned_columns(where, columns: set[str] = frozenset(), variables: frozenset[str] = frozenset()) -> set[str]:
    """Columns the top-level AND of `where` compares to a constant with `=`. A bare name that is
    not a column of the table may be one of a joined table, so it pins nothing; a name the
    PL/pgSQL block declares (`variables`) is fixed for the statement, as a parameter is."""
    pinned = set()
    for term in and_terms(where):
        if _operator(term) != "=":
            continue
        for column, value in ((term.lexpr, term.rexpr), (term.rexpr, term.lexpr)):
            name = _column(column)
            if name is None or _is_variable(column, variables):
                continue
            if _is_variable(value, variables) or (_is_value(value, columns)
                                                  and not (name in columns and _column(value))):
                pinned.add(name)
    return pinned


def bounded_key(catalog: Catalog, table: str, where, variables: frozenset[str] = frozenset()) -> bool:
    """Does the WHERE keep the statement to one batch of the table: a key column between two
    values, equal to one of a list, or IN a subquery with a LIMIT?"""
    keys = unique_keys(catalog, table)
    if not keys:
        return False
    rel = catalog.get(table)
    columns = set(rel.columns) if rel is not None else set()
    leading = {key[0] for key in keys}
    pinned = pinned_columns(where, columns, variables)
    if any(set(key) <= pinned for key in keys):
        return True
    bounds: dict[str, set[str]] = {}
    for term in and_terms(where):
        if isinstance(term, ast.A_Expr) and term.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
            name = _column(term.lexpr)
            if name in leading and all(_is_value(v, columns, variables) for v in term.rexpr):
                return True
        elif isinstance(term, ast.A_Expr) and term.kind == A_Expr_Kind.AEXPR_IN:
            if _column(term.lexpr) in leading and all(_is_value(v, columns, variables) for v in term.rexpr):
                return True
        elif isinstance(term, ast.A_Expr) and term.kind == A_Expr_Kind.AEXPR_OP_ANY:
            if _column(term.lexpr) in leading and (_is_value(term.rexpr, columns, variables)
                                                    or isinstance(term.rexpr, ast.A_ArrayExpr)):
                return True
        elif isinstance(term, ast.SubLink) and term.subLinkType == SubLinkType.ANY_SUBLINK:
            sub = term.subselect
            if _column(term.testexpr) in leading and isinstance(sub, ast.SelectStmt) and sub.limitCount is not None:
                return True
        side = _LOWER.get(_operator(term) or "")
        if side is None:
            continue
        for column, value, which in ((term.lexpr, term.rexpr, side), (term.rexpr, term.lexpr, _FLIP[side])):
            name = _column(column)
            if name in leading and _is_value(value, columns, variables):
                bounds.setdefault(name, set()).add(which)
            elif _row_lead(column) in leading and isinstance(value, ast.RowExpr) \
                    and all(_is_value(v, columns, variables) for v in value.args):
                bounds.setdefault(_row_lead(column), set()).add(which)
    return any(sides == {"lower", "upper"} for sides in bounds.values())
