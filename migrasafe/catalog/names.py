"""Reading names, types and expressions out of pglast nodes."""
from __future__ import annotations

from pglast import ast

from .state import TypeSpec

# Spellings of the same built-in type, mapped to the name pg_type uses.
_ALIASES = {
    "integer": "int4", "int": "int4", "bigint": "int8", "smallint": "int2",
    "boolean": "bool", "decimal": "numeric", "real": "float4", "double precision": "float8",
    "character varying": "varchar", "character": "bpchar", "char": "bpchar",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time with time zone": "timetz", "time without time zone": "time",
    "serial4": "serial", "serial8": "bigserial", "serial2": "smallserial",
}
SERIALS = {"serial": "int4", "bigserial": "int8", "smallserial": "int2"}

BUILTIN_TYPES = {
    "int2", "int4", "int8", "numeric", "float4", "float8", "money", "bool", "text", "varchar",
    "bpchar", "bytea", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "uuid",
    "json", "jsonb", "xml", "inet", "cidr", "macaddr", "macaddr8", "bit", "varbit", "tsvector",
    "tsquery", "point", "line", "lseg", "box", "path", "polygon", "circle", "oid", "name",
    "citext", "hstore", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
    "regclass", "char", "serial", "bigserial", "smallserial", "record", "void", "trigger",
}

# Built-in functions that are VOLATILE: a column default using one is evaluated per row, so
# ADD COLUMN with it rewrites the table. Functions not listed (now(), lower(), ...) are stable or
# immutable and evaluated once.
VOLATILE_FUNCTIONS = {
    "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
    "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "setval", "clock_timestamp", "timeofday",
    "txid_current", "pg_current_xact_id", "currval", "lastval", "gen_random_bytes", "random_string",
}


def strval(node) -> str:
    return node.sval if isinstance(node, ast.String) else str(getattr(node, "sval", node))


def rangevar_parts(rv: ast.RangeVar) -> tuple[str | None, str]:
    return rv.schemaname, rv.relname


def dotted(names) -> tuple[str | None, str]:
    """('s','t') or ('t',) from a list of String nodes."""
    parts = [strval(n) for n in names]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[-1]


def type_spec(tn: ast.TypeName, resolve_user=None) -> TypeSpec:
    parts = [strval(n) for n in tn.names]
    if parts and parts[0] == "pg_catalog":
        parts = parts[1:]
    name = ".".join(parts)
    # The parser has already folded unquoted names; a quoted one ("TaskStatus", as ORMs create
    # enums) is another type than its lower-case spelling, and a fix must spell it that way.
    if name.lower() in _ALIASES or name.lower() in BUILTIN_TYPES:
        name = name.lower()
    name = _ALIASES.get(name, name)
    if name not in BUILTIN_TYPES and "." not in name and resolve_user:
        name = resolve_user(name)
    mods = tuple(_const_value(m) for m in (tn.typmods or ()))
    if name in ("timestamp", "timestamptz", "time", "timetz") and tn.typmods is None:
        mods = ()
    return shared_type(name, mods, bool(tn.arrayBounds))


def collation_of(coldef: ast.ColumnDef) -> str | None:
    """The collation a column definition writes, None for its type's default."""
    clause = coldef.collClause
    if clause is None or not clause.collname:
        return None
    name = strval(clause.collname[-1])
    return None if name == "default" else name


_TYPES: dict[tuple, TypeSpec] = {}


def shared_type(name: str, mods: tuple = (), array: bool = False) -> TypeSpec:
    """One object for equal types: a schema of thousands of columns has a few dozen types."""
    key = (name, mods, array)
    try:
        spec = _TYPES.get(key)
    except TypeError:  # a typmod that is not hashable: a type of its own
        return TypeSpec(name, mods, array)
    if spec is None:
        spec = _TYPES[key] = TypeSpec(name, mods, array)
    return spec


def _const_value(node):
    if isinstance(node, ast.A_Const) and node.val is not None:
        val = node.val
        for attr in ("ival", "fval", "sval", "boolval"):
            if hasattr(val, attr):
                v = getattr(val, attr)
                try:
                    return int(v)
                except (TypeError, ValueError):
                    return v
    if isinstance(node, ast.ColumnRef):
        return ".".join(strval(f) for f in node.fields)
    return "?"


def function_name(fc: ast.FuncCall) -> str:
    return strval(fc.funcname[-1]).lower()


_CHILD_ATTRS: dict[type, tuple[str, ...]] = {}


def _child_attrs(cls) -> tuple[str, ...]:
    """The attributes of a node class that can hold nodes (from pglast's slot types)."""
    found = _CHILD_ATTRS.get(cls)
    if found is None:
        slots = cls.__slots__ if isinstance(cls.__slots__, dict) else {}
        found = tuple(a for a, info in slots.items()
                      if info.c_type != "char*" and (info.c_type.endswith("*") or info.c_type in ("Node", "ValUnion")))
        _CHILD_ATTRS[cls] = found
    return found


# Nodes whose subtrees hold only names and constants: nothing a walk looks for (functions,
# relations, CTEs, locking clauses) can be below them, so walks do not descend into them.
_LEAVES = frozenset((ast.A_Const, ast.ColumnRef, ast.ParamRef, ast.TypeName, ast.String, ast.Integer,
                     ast.Float, ast.Boolean, ast.BitString))


def walk(node):
    """Every pglast node below (and including) `node`, except what is inside names and constants."""
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        current = pop()
        cls = type(current)
        if cls is tuple or cls is list:
            extend(current)
            continue
        if cls in _LEAVES:
            yield current
            continue
        if not isinstance(current, ast.Node):
            continue
        yield current
        for attr in _CHILD_ATTRS.get(cls) or _child_attrs(cls):
            child = getattr(current, attr, None)
            if child is not None:
                push(child)


def nodes_of(node, classes: tuple) -> list:
    """The nodes of `walk(node)` whose class is one of `classes`, in its order (without making
    the others one by one)."""
    found = []
    stack = [node]
    pop, push, extend, keep = stack.pop, stack.append, stack.extend, found.append
    while stack:
        current = pop()
        cls = type(current)
        if cls is tuple or cls is list:
            extend(current)
            continue
        if cls in _LEAVES:
            if cls in classes:
                keep(current)
            continue
        attrs = _CHILD_ATTRS.get(cls)
        if attrs is None:
            if not isinstance(current, ast.Node):
                continue
            attrs = _child_attrs(cls)
        if cls in classes:
            keep(current)
        for attr in attrs:
            child = getattr(current, attr, None)
            if child is not None:
                push(child)
    return found


_VOLATILE_NODES = (ast.FuncCall, ast.SubLink)


def is_volatile(expr, user_functions: dict[str, str] | None = None) -> bool:
    """Would PostgreSQL evaluate this default once per row?"""
    user_functions = user_functions or {}
    for node in nodes_of(expr, _VOLATILE_NODES):
        if isinstance(node, ast.FuncCall):
            name = function_name(node)
            if name in VOLATILE_FUNCTIONS:
                return True
            if user_functions.get(name) == "v":
                return True
        if isinstance(node, (ast.SubLink,)):
            return True
    return False


def column_names(nodes) -> tuple[str, ...]:
    out = []
    for n in nodes or ():
        if isinstance(n, ast.String):
            out.append(n.sval)
        elif isinstance(n, ast.IndexElem):
            out.append(n.name if n.name else "(expr)")
    return tuple(out)


def index_column_names(params) -> list[str]:
    """The names PostgreSQL gives an index's columns when it names the index itself: a column's
    name, a function's name for a call, "expr" for any other expression."""
    out: list[str] = []
    for elem in params or ():
        name = elem.indexcolname or elem.name or _figure_colname(elem.expr)[0] or "expr"
        unique, n = name, 0
        while unique in out:  # a repeated name gets 1, 2, ... as PostgreSQL numbers them
            n += 1
            unique = f"{name}{n}"
        out.append(unique)
    return out


def _figure_colname(node) -> tuple[str | None, int]:
    """(name, strength), as PostgreSQL's FigureColnameInternal weighs them."""
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1] if node.fields else None
        return (last.sval, 2) if isinstance(last, ast.String) else (None, 0)
    if isinstance(node, ast.FuncCall):
        return strval(node.funcname[-1]), 2
    if isinstance(node, ast.TypeCast):
        name, strength = _figure_colname(node.arg)
        if strength <= 1 and node.typeName is not None and node.typeName.names:
            return strval(node.typeName.names[-1]), 1
        return name, strength
    if isinstance(node, ast.CoalesceExpr):
        return "coalesce", 2
    if isinstance(node, ast.CaseExpr):
        return "case", 1
    return None, 0


def choose_name(name1: str, name2: str, label: str, taken) -> str:
    """PostgreSQL's ChooseRelationName: name1_name2_label cut to 63 bytes, then label1, label2,
    ... until the name is free (`taken` tells)."""
    attempt, suffix = 0, label
    while True:
        name = _object_name(name1, name2, suffix)
        if not taken(name):
            return name
        attempt += 1
        suffix = f"{label}{attempt}"


def _object_name(name1: str, name2: str, label: str) -> str:
    overhead = len(label) + 1 + (1 if name2 else 0)
    available = 63 - overhead
    n1, n2 = len(name1), len(name2)
    while n1 + n2 > available:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    parts = [name1[:n1]] + ([name2[:n2]] if name2 else []) + [label]
    return "_".join(parts)


def referenced_relations(node, ctes=()) -> list[tuple[str | None, str]]:
    """Every RangeVar below a node (the tables a query reads), less those naming a WITH query in
    scope: one the node's own WITHs define, or one of the `ctes` an enclosing statement's WITH
    defines."""
    ranges, defines = [], bool(ctes)
    for n in walk(node):
        if type(n) is ast.RangeVar:
            ranges.append(n)
        elif type(n) is ast.CommonTableExpr:
            defines = True
    if not defines:
        return [(n.schemaname, n.relname) for n in ranges]
    named = cte_references(node, ctes)
    return [(n.schemaname, n.relname) for n in ranges if id(n) not in named]


# The statements a WITH can be attached to.
_WITH_HOLDERS = frozenset((ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)
                          + ((ast.MergeStmt,) if hasattr(ast, "MergeStmt") else ()))
_WRITERS = _WITH_HOLDERS - {ast.SelectStmt}


def cte_references(node, ctes=()) -> set[int]:
    """The ids of the RangeVars below `node` that name a WITH query rather than a relation, as
    PostgreSQL resolves them: a WITH's names are seen by its statement (every set-operation arm
    of it too) and by the WITH queries after them, by all of its queries when it is RECURSIVE, and
    nowhere else: the same name in an enclosing query or in an earlier sibling is a relation.
    `ctes`: the names an enclosing statement's WITH defines for a part read on its own."""
    found: set[int] = set()
    stack = [(node, frozenset(ctes))]
    pop, push = stack.pop, stack.append
    while stack:
        current, scope = pop()
        cls = type(current)
        if cls is tuple or cls is list:
            stack.extend((child, scope) for child in current)
            continue
        if cls is ast.RangeVar:
            if current.schemaname is None and current.relname in scope:
                found.add(id(current))
            continue
        if cls in _LEAVES or not isinstance(current, ast.Node):
            continue
        attrs = _CHILD_ATTRS.get(cls) or _child_attrs(cls)
        if cls is ast.WithClause:  # one read apart from its statement
            attrs, with_clause = (), current
        else:
            with_clause = current.withClause if cls in _WITH_HOLDERS else None
        if with_clause is not None and with_clause.ctes:
            names = [cte.ctename for cte in with_clause.ctes]
            inner = scope | frozenset(names)
            for position, cte in enumerate(with_clause.ctes):
                if cte.ctequery is not None:
                    push((cte.ctequery, inner if with_clause.recursive else scope | frozenset(names[:position])))
            scope = inner
            attrs = tuple(a for a in attrs if a != "withClause")
        for attr in attrs:
            child = getattr(current, attr, None)
            if child is not None:
                # The table a data change writes is a relation whatever the WITH defines.
                push((child, frozenset() if attr == "relation" and cls in _WRITERS else scope))
    return found


def not_null_check_column(expr) -> str | None:
    """`col IS NOT NULL` → 'col' (the shape that lets SET NOT NULL skip its scan)."""
    if isinstance(expr, ast.NullTest) and expr.nulltesttype.name == "IS_NOT_NULL":
        arg = expr.arg
        if isinstance(arg, ast.ColumnRef) and len(arg.fields) == 1:
            return strval(arg.fields[0])
    return None
