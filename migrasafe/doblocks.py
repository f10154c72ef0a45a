"""The statements a `DO $$ ... $$` block runs, read with PostgreSQL's PL/pgSQL grammar.

A DO block is one statement to the server, but the ALTER TABLE or CREATE INDEX inside it takes
its locks all the same; so the block's static SQL statements are checked one by one, with their
own lines in the file. Statements in a branch (IF, a loop) are taken to run: the usual guard,
`IF NOT EXISTS (...) THEN ALTER TABLE ...`, is there for the first deploy, when it does run.
SQL built at run time (EXECUTE) cannot be read; its lines are returned so that can be said.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, parse_plpgsql, parser

from .model import Statement

# PL/pgSQL statements whose SQL PostgreSQL runs as written.
STATIC = {"PLpgSQL_stmt_execsql": "sqlstmt", "PLpgSQL_stmt_perform": "expr", "PLpgSQL_stmt_fors": "query",
          "PLpgSQL_stmt_call": "expr"}
_DYNAMIC = ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors")
_READ = frozenset(STATIC) | frozenset(_DYNAMIC)


@dataclass
class Block:
    statements: list[Statement] = field(default_factory=list)
    dynamic_lines: list[int] = field(default_factory=list)  # EXECUTE: SQL not known before it runs
    unread_lines: list[int] = field(default_factory=list)  # SQL that only PL/pgSQL can read
    error: str | None = None  # the body did not parse as PL/pgSQL
    # The names the block declares (its FOR loops' records among them): fixed while one of its
    # statements runs, as a parameter is, not columns.
    variables: frozenset[str] = frozenset()


def read_block(stmt: Statement) -> Block | None:
    """The statements inside a PL/pgSQL DO block; None for any other statement or language."""
    node = stmt.node
    if not isinstance(node, ast.DoStmt):
        return None
    options = {arg.defname: getattr(arg.arg, "sval", None) for arg in node.args or ()}
    body = options.get("as")
    if body is None or (options.get("language") or "plpgsql").lower() != "plpgsql":
        return None
    tag = "migrasafe_do"
    while f"${tag}$" in body:
        tag += "_"
    try:
        tree = parse_plpgsql(f"CREATE FUNCTION migrasafe_do() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$")
    except parser.ParseError as err:
        return Block(error=str(err))
    # PL/pgSQL numbers lines from the one the body starts on.
    at = stmt.sql.find(body)
    body_line = stmt.line + (stmt.sql.count("\n", 0, at) if at >= 0 else 0)
    block = Block(variables=_variables(tree))
    for kind, item in plpgsql_statements(tree, _READ):
        line = body_line + item.get("lineno", 1) - 1
        if kind in _DYNAMIC:
            block.dynamic_lines.append(line)
            continue
        query = item.get(STATIC[kind], {}).get("PLpgSQL_expr", {}).get("query")
        if query:
            parsed = _parsed(stmt, query, line, max(at, 0))
            if parsed is None:
                block.unread_lines.append(line)
            else:
                block.statements.extend(parsed)
    return block


def plpgsql_statements(tree, kinds) -> list[tuple[str, dict]]:
    """(kind, fields) of every PL/pgSQL statement of one of `kinds` in the parse tree, in the
    order written (branches and loop bodies included)."""
    stack = [tree]
    found = []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in kinds:
                    found.append((key, value))
            stack.extend(reversed(list(item.values())))
    return found


def _variables(tree) -> frozenset[str]:
    """The names the block declares: variables, records (a FOR loop's among them) and rows."""
    names = set()
    for item in tree:
        for datum in item.get("PLpgSQL_function", {}).get("datums", ()):
            for kind in ("PLpgSQL_var", "PLpgSQL_rec", "PLpgSQL_row"):
                refname = datum.get(kind, {}).get("refname")
                if refname:
                    names.add(refname)
    return frozenset(names)


def _parsed(stmt: Statement, query: str, line: int, search_from: int) -> list[Statement] | None:
    """The statement as SQL; None when only PL/pgSQL reads it (SELECT ... INTO a variable)."""
    try:
        nodes = parser.parse_sql(query)
    except parser.ParseError:
        return None
    where = stmt.sql.find(query, search_from)
    if where >= 0:
        line = stmt.line + stmt.sql.count("\n", 0, where)
        column = where - stmt.sql.rfind("\n", 0, where) if line != stmt.line else stmt.column + where
    else:
        column = 1
    return [Statement(index=stmt.index, sql=query, line=line, column=column, end_line=line + query.count("\n"),
                      node=raw.stmt, origin_path=stmt.origin_path, in_do_block=True) for raw in nodes]
