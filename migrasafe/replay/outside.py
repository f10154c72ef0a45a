"""Statements that reach outside the replay's throwaway database.

On the ``dsn`` backend the replay database sits on a server migrasafe does not own: its other
databases, its roles, its tablespaces and its configuration belong to someone else. A statement
acting on those (PostgreSQL keeps them in shared catalogs, "pg_database", "pg_authid",
"pg_tablespace", or in postgresql.auto.conf: see "Shared catalogs" in the PostgreSQL docs),
one that reads or writes the server's files or runs a program there (COPY ... PROGRAM,
pg_read_file, lo_import), one that acts on other sessions (pg_terminate_backend) or connects
elsewhere (dblink, subscriptions, foreign servers) is never run there: the replay reports it
and goes on. The statements are told apart by their parse tree (node types, object types and
the names of the functions they call), never by their text.

A DO block's body is read with PL/pgSQL's grammar and every SQL expression in it is judged the
same way; a block that builds SQL at run time (EXECUTE) cannot be judged, so it is not run.
Function bodies written as strings are not read: a function created by the migration and
called later is run (the --dsn role should not be a superuser, see the README).
"""
from __future__ import annotations

from pglast import ast, parse_plpgsql, parser
from pglast.enums.parsenodes import ObjectType as OT

_SHARED_OBJECTS = {OT.OBJECT_DATABASE: "database", OT.OBJECT_ROLE: "role", OT.OBJECT_TABLESPACE: "tablespace"}
if hasattr(OT, "OBJECT_PARAMETER_ACL"):
    _SHARED_OBJECTS[OT.OBJECT_PARAMETER_ACL] = "server parameter"

_SERVER_WIDE = "acts on the whole server"
_FILES = "reads or writes files on the server"
_SESSIONS = "ends or cancels other sessions of the server"
_FUNCTIONS = {
    **dict.fromkeys(("pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend"), _SESSIONS),
    **dict.fromkeys((
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
        "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir", "pg_ls_logicalmapdir",
        "pg_ls_replslotdir", "lo_import", "lo_export", "pg_file_write", "pg_file_rename", "pg_file_unlink",
        "pg_file_sync", "pg_logdir_ls"), _FILES),
    **dict.fromkeys((
        "pg_reload_conf", "pg_rotate_logfile", "pg_rotate_logfile_old", "pg_promote", "pg_switch_wal",
        "pg_switch_xlog", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_start_backup",
        "pg_stop_backup", "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_log_backend_memory_contexts",
        "pg_stat_reset_shared", "pg_stat_reset_slru", "pg_create_physical_replication_slot",
        "pg_create_logical_replication_slot", "pg_drop_replication_slot", "pg_replication_slot_advance",
        "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
        "pg_replication_origin_create", "pg_replication_origin_drop", "pg_replication_origin_advance",
        "pg_replication_origin_session_setup", "set_config_system"), _SERVER_WIDE),
}
_CONNECTS = "connects to another database or server"


def reaches_outside(node) -> str | None:
    """What this statement would do beyond the replay's own database, or None if nothing."""
    found = _statement(node)
    if found is None and isinstance(node, ast.DoStmt):
        return _do_block(node)
    return found if found is not None else _calls(node)


def _name(value) -> str:
    if isinstance(value, ast.RoleSpec):
        return value.rolename or "the current role"
    if isinstance(value, str):
        return value
    return getattr(value, "sval", None) or "?"


def _statement(node) -> str | None:
    if isinstance(node, ast.CreatedbStmt):
        return f"creates database {node.dbname} on the server"
    if isinstance(node, ast.DropdbStmt):
        return f"drops database {node.dbname} of the server, with everything in it"
    if isinstance(node, (ast.AlterDatabaseStmt, ast.AlterDatabaseSetStmt)) or \
            type(node).__name__ == "AlterDatabaseRefreshCollStmt":
        return f"changes database {node.dbname} of the server"
    if isinstance(node, ast.CreateRoleStmt):
        return f"creates role {node.role}, which belongs to the whole server"
    if isinstance(node, ast.AlterRoleStmt):
        return f"changes role {_name(node.role)} of the server"
    if isinstance(node, ast.AlterRoleSetStmt):
        return f"changes the settings of role {_name(node.role)} on the server"
    if isinstance(node, ast.DropRoleStmt):
        return f"drops role {', '.join(_name(r) for r in node.roles or ())} of the server"
    if isinstance(node, ast.GrantRoleStmt):
        return "changes which roles of the server are members of which"
    if isinstance(node, (ast.ReassignOwnedStmt, ast.DropOwnedStmt)):
        return "changes what roles of the server own or may use, databases and tablespaces included"
    if isinstance(node, (ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt, ast.AlterTableSpaceOptionsStmt)):
        return f"changes tablespace {node.tablespacename} of the server"
    if isinstance(node, ast.AlterSystemStmt):
        return f"changes the server's configuration ({node.setstmt.name or 'ALL'}) for every database"
    if isinstance(node, ast.LoadStmt):
        return f"loads library {node.filename} into the server"
    if isinstance(node, ast.CheckPointStmt):
        return "forces a checkpoint of the whole server"
    if isinstance(node, (ast.CreateSubscriptionStmt, ast.AlterSubscriptionStmt)):
        return f"{_CONNECTS} to replicate from it (subscription)"
    if isinstance(node, (ast.CreateForeignServerStmt, ast.AlterForeignServerStmt, ast.CreateUserMappingStmt,
                         ast.AlterUserMappingStmt, ast.ImportForeignSchemaStmt)):
        return f"sets up or uses a foreign server, with which statements {_CONNECTS}"
    if isinstance(node, ast.CopyStmt) and node.filename is not None:
        if node.is_program:
            return f"runs the program {node.filename!r} on the server (COPY ... PROGRAM)"
        return f"{'reads' if node.is_from else 'writes'} the server's file {node.filename!r}"
    shared = _shared_object(node)
    if shared is not None:
        return f"changes a {shared} of the server, which every database shares"
    return None


def _shared_object(node) -> str | None:
    if isinstance(node, ast.RenameStmt):
        kind = node.renameType
    elif isinstance(node, ast.AlterOwnerStmt):
        kind = node.objectType
    elif isinstance(node, (ast.CommentStmt, ast.SecLabelStmt, ast.GrantStmt)):
        kind = node.objtype
    else:
        return None
    return _SHARED_OBJECTS.get(kind)


def _calls(node) -> str | None:
    for call in _function_calls(node):
        name = _name(call.funcname[-1]).lower() if call.funcname else ""
        if name.startswith("dblink"):
            return f"calls {name}(), which {_CONNECTS}"
        if name in _FUNCTIONS:
            return f"calls {name}(), which {_FUNCTIONS[name]}"
    return None


def _function_calls(node):
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FuncCall):
            yield item
        if isinstance(item, ast.Node):
            stack.extend(value for _, value in _children(item))
        elif isinstance(item, tuple):
            stack.extend(item)


def _children(node):
    for attr in node:
        value = getattr(node, attr, None)
        if isinstance(value, (ast.Node, tuple)):
            yield attr, value


def _do_block(node: ast.DoStmt) -> str | None:
    options = {arg.defname: getattr(arg.arg, "sval", None) for arg in node.args or ()}
    body = options.get("as")
    language = (options.get("language") or "plpgsql").lower()
    if body is None or language != "plpgsql":
        return f"runs a DO block in {language}, which cannot be read"
    tag = "migrasafe_do"
    while f"${tag}$" in body:
        tag += "_"
    try:
        tree = parse_plpgsql(f"CREATE FUNCTION migrasafe_do() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$")
    except parser.ParseError:
        return "runs a DO block whose body is not valid PL/pgSQL, so what it does cannot be read"
    for kind, value in _plpgsql_items(tree):
        if kind in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"):
            return "runs a DO block that builds SQL at run time (EXECUTE), so what it reaches cannot be read"
        if kind == "PLpgSQL_expr":
            found = _expression(value.get("query") or "")
            if found is not None:
                return f"runs a DO block that {found}"
    return None


def _plpgsql_items(tree):
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key.startswith("PLpgSQL_"):
                    yield key, value if isinstance(value, dict) else {}
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _assigned(query: str) -> str:
    """The expression of `target := expression` (or `target = expression`)."""
    try:
        tokens = parser.scan(query)
    except parser.ParseError:
        return query
    for token in tokens:
        if token.name in ("COLON_EQUALS", "ASCII_61"):
            return query[token.end + 1:]
    return query


def _expression(query: str) -> str | None:
    """A PL/pgSQL expression is a whole statement, what follows SELECT in one, or an
    assignment (`target := expression`, PostgreSQL 14 and later keep the target in it)."""
    for text in (query, f"SELECT {query}", f"SELECT {_assigned(query)}"):
        try:
            statements = parser.parse_sql(text)
        except parser.ParseError:
            continue
        for raw in statements:
            found = _statement(raw.stmt) or _calls(raw.stmt)
            if found is not None:
                return found
        return None
    return "holds an expression that cannot be read"
