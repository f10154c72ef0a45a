"""What a call of a function or procedure the history created runs: the statements of its body.

A function runs inside the statement that calls it, so in that statement's transaction: every
statement of its body takes its locks and holds them until that transaction ends, under whatever
lock the transaction already holds. `SELECT f(...)` (PERFORM in PL/pgSQL) and `CALL p(...)` of a
plpgsql or sql routine whose body the catalog knows are followed, and so are the calls its own
body makes. Not followed: routines of other languages or not created by the history (nothing is
known of them), trigger functions (a trigger, not the migration, runs them), SQL built at run
time (EXECUTE), and a body that COMMITs or ROLLBACKs: a procedure CALLed outside a transaction
block may end transactions part-way, so its statements do not share one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from pglast import ast, parse_plpgsql, parser

from .catalog.names import dotted, strval
from .catalog.state import Catalog, Routine
from .doblocks import STATIC as _STATIC, plpgsql_statements

_ENDS_TRANSACTION = ("PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback")
_READ = frozenset(_STATIC) | frozenset(_ENDS_TRANSACTION)
# The statements of a body that touch rows: their locks are the call's. DDL in a body is not
# followed, nor are utility statements.
_QUERIES = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.CallStmt)
_DEPTH = 8


@dataclass
class BodyStatement:
    routine: Routine
    node: object
    sql: str
    line: int  # in the body, from 1
    at: int = -1  # where the call that runs it is written in the calling statement's text
    # (schema or None, name) of the tables the body creates itself (a TEMP table it fills):
    # new at every call, so never live.
    own_tables: frozenset = frozenset()

    def makes(self, relation: str) -> bool:
        """Whether `relation` (qualified) is a table the body creates itself."""
        schema, _, name = relation.rpartition(".")
        return (None, name) in self.own_tables or (schema, name) in self.own_tables

    @property
    def routine_name(self) -> str:
        name = self.routine.name
        return name.split(".", 1)[1] if name.startswith("public.") else name

    def place(self, here: str | None) -> str:
        """Where the statement is written, for a message: its line in the file that created the
        routine (named when it is not `here`), else in the routine's body."""
        routine = self.routine
        if routine.body_line is None:
            return f"line {self.line} of its body"
        line = routine.body_line + self.line - 1
        if routine.path is None or routine.path == here:
            return f"line {line}"
        return f"line {line} of {os.path.basename(routine.path)}"


def routine_key(catalog: Catalog, names, existing: bool = False) -> str:
    """The qualified name a routine is created under (`existing`: the one a name resolves to)."""
    schema, name = dotted(names)
    name = name.lower()
    if schema:
        return f"{schema}.{name}"
    path = [s for s in catalog.search_path if s not in ("$user", "pg_temp", "pg_catalog")] or ["public"]
    if existing:
        found = next((f"{s}.{name}" for s in path if f"{s}.{name}" in catalog.routines), None)
        if found:
            return found
    return f"{path[0]}.{name}"


def note_created(catalog: Catalog, stmt, path: str | None) -> None:
    """Where a CREATE FUNCTION or PROCEDURE statement just applied wrote its routine's body."""
    node = stmt.node
    if not isinstance(node, ast.CreateFunctionStmt) or not catalog.routines:
        return
    routine = catalog.routines.get(routine_key(catalog, node.funcname))
    if routine is None:
        return
    body = next((o.arg for o in node.options or () if o.defname == "as"), None)
    body = strval(body[0]) if isinstance(body, (list, tuple)) and body else None
    at = stmt.sql.find(body) if body else -1
    routine.path = stmt.origin_path or path
    routine.body_line = stmt.line + stmt.sql.count("\n", 0, at) if at >= 0 else None


def called(node, catalog: Catalog) -> list[BodyStatement]:
    """The statements of the known routines a statement calls, in the order written, those of
    the calls their bodies make included."""
    if not catalog.routines or not isinstance(node, (ast.SelectStmt, ast.CallStmt)):
        return []
    return _reached(node, catalog, (), None)


def _reached(node, catalog: Catalog, seen: tuple, at: int | None) -> list[BodyStatement]:
    out = []
    for routine, location in _calls(node, catalog):
        if routine.name in seen or len(seen) >= _DEPTH:
            continue
        where = location if at is None else at
        for inner in body_statements(routine) or ():
            inner.at = where
            out.append(inner)
            if isinstance(inner.node, (ast.SelectStmt, ast.CallStmt)):
                out += _reached(inner.node, catalog, (*seen, routine.name), where)
    return out


def _calls(node, catalog: Catalog) -> list[Routine]:
    from .catalog.names import walk

    if isinstance(node, ast.CallStmt):
        calls = [node.funccall] if node.funccall is not None else []
    else:
        calls = [n for n in walk(node) if isinstance(n, ast.FuncCall)]
    out = []
    for call in calls:
        routine = catalog.routines.get(routine_key(catalog, call.funcname, existing=True))
        if routine is None or routine.trigger or routine.procedure != isinstance(node, ast.CallStmt):
            continue
        location = call.location if isinstance(call.location, int) else -1
        out.append((routine, location))
    return out


_BODIES: dict[str, tuple] = {}


def body_statements(routine: Routine) -> list[BodyStatement] | None:
    """The queries a routine's body runs; None when the body cannot be read, or ends the
    transaction it runs in."""
    cached = _BODIES.get(routine.source)
    if cached is None:
        cached = _BODIES[routine.source] = (_read(routine.source, routine.language),)
        if len(_BODIES) > 4096:
            _BODIES.pop(next(iter(_BODIES)))
    found = cached[0]
    if found is None:
        return None
    queries, own = found
    return [BodyStatement(routine, node, sql, line, own_tables=own) for node, sql, line in queries]


def _read(source: str, language: str):
    try:
        create = parser.parse_sql(source)[0].stmt
    except parser.ParseError:
        return None
    if language == "sql":
        return _read_sql(create)
    try:
        tree = parse_plpgsql(source)
    except parser.ParseError:
        return None
    variables = _variables(tree, source)
    found, own = [], set()
    for kind, item in plpgsql_statements(tree, _READ):
        if kind in _ENDS_TRANSACTION:
            return None
        query = item.get(_STATIC[kind], {}).get("PLpgSQL_expr", {}).get("query")
        if not query:
            continue
        try:
            nodes = parser.parse_sql(query)
        except parser.ParseError:
            continue
        for raw in nodes:
            _note_own_table(raw.stmt, own)
            if isinstance(raw.stmt, _QUERIES):
                found.append((_as_parameters(raw.stmt, variables), query, item.get("lineno", 1)))
    return found, frozenset(own)


def _note_own_table(node, own: set) -> None:
    if isinstance(node, ast.CreateStmt):
        relation = node.relation
    elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        relation = node.into.rel
    else:
        return
    temp = relation.relpersistence == "t"
    own.add((None if temp else relation.schemaname, relation.relname))


def _variables(tree, source: str) -> frozenset:
    """The names PL/pgSQL resolves to its own variables (parameters, DECLAREd): by default a
    name that is both a variable and a column is an error, so a name that is a variable is one.
    Under `#variable_conflict use_column` the column wins: then none is taken for a variable."""
    if "#variable_conflict" in source.lower():
        return frozenset()
    datums = tree[0]["PLpgSQL_function"].get("datums", []) if tree else []
    return frozenset(d[kind]["refname"] for d in datums for kind in ("PLpgSQL_var", "PLpgSQL_rec")
                     if kind in d and "refname" in d[kind])


def _as_parameters(node, variables: frozenset):
    """The query with its variables as what PL/pgSQL makes of them, parameters ($n): values fixed
    while the statement runs, which the rules judge as they judge any parameter."""
    if not variables:
        return node

    def swap(value):
        if isinstance(value, ast.ColumnRef) and len(value.fields) == 1 and isinstance(value.fields[0], ast.String) \
                and value.fields[0].sval in variables:
            return ast.ParamRef(number=1, location=value.location)
        if isinstance(value, ast.Node):
            for name in value.__slots__:
                child = getattr(value, name, None)
                if isinstance(child, (ast.Node, tuple, list)):
                    setattr(value, name, swap(child))
            return value
        if isinstance(value, tuple):
            return tuple(swap(v) for v in value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(node)


def _read_sql(create):
    """A LANGUAGE sql body: the text after AS, or the statements of a BEGIN ATOMIC body."""
    if create.sql_body is not None:
        body = create.sql_body
        nodes = body[0] if isinstance(body, (list, tuple)) and body and isinstance(body[0], (list, tuple)) else body
        nodes = nodes if isinstance(nodes, (list, tuple)) else [nodes]
        from pglast.stream import RawStream

        own: set = set()
        for n in nodes:
            _note_own_table(n, own)
        return [(n, RawStream()(n), 1) for n in nodes if isinstance(n, _QUERIES)], frozenset(own)
    text = next((o.arg for o in create.options or () if o.defname == "as"), None)
    text = strval(text[0]) if isinstance(text, (list, tuple)) and text else None
    if not text:
        return None
    try:
        raws = parser.parse_sql(text)
    except parser.ParseError:
        return None
    found, own = [], set()
    for raw in raws:
        _note_own_table(raw.stmt, own)
        start = raw.stmt_location or 0
        sql = text[start:start + raw.stmt_len] if raw.stmt_len else text[start:]
        if isinstance(raw.stmt, _QUERIES):
            found.append((raw.stmt, sql.strip(), text.count("\n", 0, start + len(sql) - len(sql.lstrip())) + 1))
    return found, frozenset(own)
