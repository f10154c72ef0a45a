"""A CREATE TABLE that did not parse still creates a table when it runs.

Its name is read with PostgreSQL's own scanner (the statement's tokens, not a regular
expression over the text): CREATE [OR REPLACE] [GLOBAL | LOCAL] [TEMP | TEMPORARY | UNLOGGED]
TABLE [IF NOT EXISTS] name. The table goes into the catalog as created by this migration with
unknown columns, so the statements after it are not judged as if it were a live table.
"""
from __future__ import annotations

from pglast import parser

from .state import Catalog, Relation

_BEFORE_TABLE = {"OR", "REPLACE", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "FOREIGN"}


def created_table_name(sql: str) -> tuple[str | None, str] | None:
    """(schema, name) of the table a CREATE TABLE statement creates, or None."""
    try:
        tokens = [t for t in parser.scan(sql) if t.name not in ("C_COMMENT", "SQL_COMMENT")]
    except Exception:  # noqa: BLE001 - text the scanner cannot read: no name to take
        return None
    words = [(t, sql[t.start:t.end + 1]) for t in tokens]
    if not words or words[0][1].upper() != "CREATE":
        return None
    at = 1
    while at < len(words) and words[at][1].upper() in _BEFORE_TABLE:
        at += 1
    if at >= len(words) or words[at][1].upper() != "TABLE":
        return None
    at += 1
    if [w.upper() for _, w in words[at:at + 3]] == ["IF", "NOT", "EXISTS"]:
        at += 3
    parts = []
    while at < len(words):
        token, text = words[at]
        if token.name not in ("IDENT", "UIDENT") and token.kind not in ("UNRESERVED_KEYWORD", "COL_NAME_KEYWORD",
                                                                       "TYPE_FUNC_NAME_KEYWORD"):
            break
        parts.append(text[1:-1].replace('""', '"') if text.startswith('"') else text.lower())
        if at + 1 < len(words) and words[at + 1][1] == ".":
            at += 2
            continue
        break
    if not parts or len(parts) > 2:
        return None
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def note_unparsed_create(catalog: Catalog, sql: str) -> str | None:
    """Record the table an unparsable CREATE TABLE makes; returns its qualified name."""
    found = created_table_name(sql)
    if found is None:
        return None
    name = catalog.qualify(*found)
    if name in catalog.relations:
        return name  # CREATE TABLE IF NOT EXISTS of a table already there, or an error: unchanged
    rel = Relation(name=name, kind="table", created_in=catalog.migration, columns_known=False)
    catalog.relations[name] = rel
    catalog.dropped.discard(name)
    return name
