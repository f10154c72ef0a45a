"""Spelling names and values in generated SQL."""
from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

# PostgreSQL truncates longer identifiers silently; generated names must stay under it.
NAME_LIMIT = 63
_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_KEYWORDS = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def ident(name: str) -> str:
    """An identifier as SQL must spell it: quoted only when it has to be."""
    if _PLAIN.match(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """`schema.table` from the catalog's qualified name."""
    schema, _, rel = name.partition(".")
    return f"{ident(schema)}.{ident(rel)}" if rel else ident(schema)


def type_sql(spec) -> str:
    """A catalog TypeSpec as a column definition must spell it: each part of a user type's
    qualified name quoted when it has to be, then its typmods and array brackets."""
    text = ".".join(ident(part) for part in spec.name.split(".")) if "." in spec.name or \
        not _PLAIN.match(spec.name) else spec.name
    if spec.mods:
        text += "(" + ",".join(str(m) for m in spec.mods) + ")"
    return text + ("[]" if spec.array else "")


def table_part(name: str) -> str:
    return name.partition(".")[2] or name


def schema_part(name: str) -> str:
    return name.partition(".")[0] if "." in name else "public"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def object_name(*parts: str, suffix: str = "") -> str:
    """A generated object name from its parts, shortened with a stable hash when too long."""
    name = "_".join(p for p in parts if p) + (f"_{suffix}" if suffix else "")
    if len(name.encode()) <= NAME_LIMIT:
        return name
    import hashlib  # only for a name too long: it is slow to import

    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    keep = NAME_LIMIT - len(digest) - 1
    return name.encode()[:keep].decode(errors="ignore").rstrip("_") + "_" + digest


def slug(text: str, limit: int = 60) -> str:
    """A file-name-friendly description: lower case words joined by underscores."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    out = "_".join(words)
    return out[:limit].rstrip("_") or "migration"
