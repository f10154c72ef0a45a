"""Does an edit change what runs, or only comments and whitespace? And does the tool's checksum see it?

SQL is compared token by token with PostgreSQL's own scanner (pglast), comments left out; Python
(Alembic and Django migrations) with Python's tokenizer, comments and blank lines left out.
"""
from __future__ import annotations

import difflib
import io

_COMMENTS = {"SQL_COMMENT", "C_COMMENT"}


def code_tokens(text: str, python: bool) -> list | None:
    """The tokens that run, or None when the text does not tokenize (then every edit counts)."""
    return _python_tokens(text) if python else _sql_tokens(text)


def _sql_tokens(text: str) -> list[str] | None:
    from pglast import parser

    try:
        tokens = parser.scan(text)
    except Exception:  # noqa: BLE001 - the scanner's errors are not one class; the edit then counts
        return None
    return [text[t.start:t.end + 1] for t in tokens if t.name not in _COMMENTS]


def _python_tokens(text: str) -> list[tuple[int, str]] | None:
    import tokenize

    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL):
                continue
            # Indentation matters by its structure, not by its width.
            out.append((token.type, "" if token.type in (tokenize.INDENT, tokenize.NEWLINE) else token.string))
    except (tokenize.TokenError, SyntaxError):
        return None
    return out


def only_comments_or_whitespace(old: str, new: str, python: bool) -> bool:
    before, after = code_tokens(old, python), code_tokens(new, python)
    return before is not None and before == after


def same_for_checksum(old: str, new: str, ignores: str) -> bool:
    """Whether the tool's checksum of the two texts is the same, given what it leaves out."""
    if ignores == "line endings":  # Flyway: line by line, the BOM and line terminators left out
        return old.lstrip("\ufeff").splitlines() == new.lstrip("\ufeff").splitlines()
    if ignores == "whitespace":  # Liquibase: every space, tab and line break left out
        table = str.maketrans("", "", " \t\r\n")
        return old.translate(table) == new.translate(table)
    return old == new


def first_changed_line(old: str, new: str, start: int = 0) -> int:
    """1-based line of `new` where it first differs from `old` (lines counted from `start`)."""
    a, b = old.splitlines(), new.splitlines()
    for tag, _, _, j1, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            return start + min(j1, max(len(b) - 1, 0)) + 1
    return start + 1
