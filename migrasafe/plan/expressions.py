"""SQL expressions and type names given on the command line: checked with PostgreSQL's grammar
before they are written into a migration."""
from __future__ import annotations

from pglast import ast, parser
from pglast.visitors import Visitor

from ..catalog.names import is_volatile, type_spec
from ..catalog.state import TypeSpec
from .errors import PlanError


def parse_expression(text: str, what: str):
    """The expression node of `text`, or a PlanError naming `what` the user gave."""
    if not text.strip():
        raise PlanError(f"{what} is empty")
    try:
        statements = parser.parse_sql(f"SELECT ({text})")
    except parser.ParseError as err:
        raise PlanError(f"{what} {text!r} is not a valid SQL expression: {err}") from None
    if len(statements) != 1:
        raise PlanError(f"{what} {text!r} must be one expression")
    select = statements[0].stmt
    if (not isinstance(select, ast.SelectStmt) or select.fromClause or select.whereClause
            or len(select.targetList or ()) != 1):
        raise PlanError(f"{what} {text!r} must be one expression")
    return select.targetList[0].val


def parse_type(text: str) -> tuple[str, TypeSpec]:
    """(the type as written, its canonical spec) for a type name given by the user."""
    try:
        statements = parser.parse_sql(f"SELECT CAST(NULL AS {text})")
        node = statements[0].stmt.targetList[0].val
    except (parser.ParseError, AttributeError, IndexError, TypeError):
        raise PlanError(f"{text!r} is not a PostgreSQL type name") from None
    if len(statements) != 1 or not isinstance(node, ast.TypeCast):
        raise PlanError(f"{text!r} is not a PostgreSQL type name")
    return " ".join(text.split()), type_spec(node.typeName)


def column_refs(node) -> set[str]:
    """Unqualified column names an expression reads."""
    found: set[str] = set()

    class Collect(Visitor):
        def visit_ColumnRef(self, ancestors, ref):
            fields = [f for f in ref.fields or () if isinstance(f, ast.String)]
            if fields:
                found.add(fields[-1].sval)

    Collect()(node)
    return found


def check_columns(node, columns, what: str, table: str) -> None:
    unknown = sorted(column_refs(node) - set(columns))
    if unknown:
        raise PlanError(f"{what} uses {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} "
                        f"not a column of {table}")


def render(node) -> str:
    from pglast.stream import RawStream

    return RawStream()(node)


def of_row(node, record: str) -> str:
    """The expression with every column read from `record` (NEW in a trigger)."""

    class Qualify(Visitor):
        def visit_ColumnRef(self, ancestors, ref):
            fields = list(ref.fields or ())
            if len(fields) == 1 and isinstance(fields[0], ast.String):
                return ast.ColumnRef(fields=(ast.String(sval=record), fields[0]))
            return None

    import copy

    tree = copy.deepcopy(node)
    # The visitor replaces nodes inside their parents; wrap so the root itself can be replaced.
    holder = ast.ResTarget(val=tree)
    Qualify()(holder)
    return render(holder.val)


def volatile(node) -> bool:
    return is_volatile(node, {})
