"""Split SQL text into statements with positions, using PostgreSQL's own grammar (pglast).

A statement that does not parse is kept (with its error) so the rest of the file is still
checked; only the broken statement is lost to analysis.
"""
from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

from contextlib import contextmanager

from pglast import ast, parser

from . import packed
from .model import UNPARSED, Statement

# Go templates ({{ .Schema }}) appear in popx/kratos-style migrations. Each is replaced by an
# identifier named after the template, padded to the template's length so positions stay true.
_TEMPLATE = re.compile(r"\{\{(?!\s*[\d{])[^{},;]*?\}\}", re.S)
# psql meta-commands (\set, \c, \i) are client-side: the server never sees them.
_META = re.compile(r"^[ \t]*\\[A-Za-z!?].*$", re.M)


@dataclass
class Preprocessed:
    text: str
    notes: list[tuple[int, str]]  # (line, message) for info findings
    # Stand-in identifier → the template as first written, to show the user their own text.
    templates: dict[str, str] = field(default_factory=dict)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def preprocess(text: str) -> Preprocessed:
    notes: list[tuple[int, str]] = []
    quoted: list[tuple[int, int, int]] = []  # (start, name length, template length)
    templates: dict[str, str] = {}

    def template(match: re.Match) -> str:
        raw = match.group(0)
        notes.append((_line_of(text, match.start()), f"template placeholder {_short(raw)} substituted"))
        start, end = match.span()
        name = _template_name(raw)
        templates.setdefault(name, raw)
        if 0 < start and end < len(text) and text[start - 1] == text[end] == '"' and "\n" not in raw:
            quoted.append((start, len(name), len(raw)))
            return name + " " * (len(raw) - len(name))
        glued_left = start > 0 and _word_char(text[start - 1])
        glued_right = end < len(text) and (_word_char(text[end]) or text.startswith("{{", end))
        return _same_shape(raw, name, glued_left, glued_right)

    def meta(match: re.Match) -> str:
        raw = match.group(0)
        notes.append((_line_of(text, match.start()), f"psql meta-command {_short(raw.strip())} skipped"))
        return " " * len(raw)

    if "{{" in text:
        text = _close_quotes(_TEMPLATE.sub(template, text), quoted)
    if "\\" in text:
        text = _META.sub(meta, text)
    notes.sort()
    return Preprocessed(text, notes, templates)


def restore_templates(text: str, templates: dict[str, str]) -> str:
    """Put the user's templates back into a message or a fix built from the stand-ins, taking
    out the padding that kept positions true where it is plainly padding: before the dot of a
    qualified name, and in front of a word the template ran into."""
    for name, raw in templates.items():
        if name not in text:
            continue
        quoted = re.escape(f'"{name}"')
        text = re.sub(rf"{quoted} *(?=\.)", lambda m: f'"{raw}"', text)
        text = re.sub(rf"{re.escape(name)} *(?=\.)", lambda m: raw, text)
        text = re.sub(rf"( ?) *{re.escape(name)}(?=[A-Za-z0-9_$])", lambda m: m.group(1) + raw, text)
        text = text.replace(name, raw)
    return text


def _close_quotes(text: str, quoted: list[tuple[int, int, int]]) -> str:
    """`"{{ x }}"` became `"name   "`: move the closing quote up to the name, so that every
    spelling of the template quotes the same identifier (`"name"   `); nothing else moves."""
    if not quoted:
        return text
    pieces, at = [], 0
    for start, name_length, length in quoted:
        close = start + length  # the closing quote
        pieces += [text[at:start + name_length], '"', " " * (length - name_length)]
        at = close + 1
    pieces.append(text[at:])
    return "".join(pieces)


def _short(raw: str, limit: int = 60) -> str:
    raw = " ".join(raw.split())
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def _template_name(raw: str) -> str:
    """One identifier for every spelling of a template: only whitespace inside the braces may differ.

    Every single-line spelling of `key` is at least len(key) + 4 wide ("{{" key "}}"), so a
    width taken from `key` alone fits them all. Up to 16 hex digits of a hash tell templates
    apart; a key under 9 characters gets "t" and len(key) + 3 digits (4 for `{{x}}`), where a
    collision is possible in principle but not among the few templates of a real project. The
    first line of a multi-line template may be narrower still: the name is then shortened to
    fit it, and no longer shared with other spellings.
    """
    import hashlib  # only for files with templates: it is slow to import

    key = " ".join(raw[2:-2].split())
    digest = hashlib.sha256(key.encode()).hexdigest()
    width = min(len(key) + 4, 21, len(raw.split("\n")[0]))
    prefix = "tmpl_" if width >= 13 else "t"
    return prefix + digest[: width - len(prefix)]


def _word_char(c: str) -> bool:
    # What PostgreSQL's lexer continues an unquoted identifier with (any non-ASCII character too).
    return c.isalnum() or c in "_$" or c > "\x7f"


def _same_shape(raw: str, name: str, glued_left: bool, glued_right: bool) -> str:
    """`name` padded to the width of `raw`, keeping its newlines, so columns do not shift.

    Spaces pad it: SQL allows them before any token, also around the dot of `schema.table`.
    When the template runs into a following word (`{{ .Prefix }}users`) the spaces go in front
    instead, so the two still make one identifier; inside a word only underscores keep it whole.
    """
    first, *rest = raw.split("\n")
    pad = len(first) - len(name)
    if rest or not glued_right:
        first = name + " " * pad
    elif not glued_left:
        first = " " * pad + name
    else:
        first = name + "_" * pad
    return "\n".join([first] + [" " * len(line) for line in rest])


class _Positions:
    """Offset → (line, column) for one text, in O(log n) per lookup."""

    def __init__(self, text: str):
        # An array of machine integers: a list of a large file's line starts would be a few
        # times the text.
        self.starts = array("q", [0])
        self.starts.extend(m.end() for m in re.finditer("\n", text))

    def at(self, offset: int) -> tuple[int, int]:
        i = bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

@contextmanager
def trusted_node_attributes():
    """Build nodes without pglast's per-attribute validation while this block runs.

    pglast's parser already hands every attribute its final type, and the checks cost half of
    the parse on large files. Swapping a base-class method is itself slow (it invalidates the
    type caches of every node class), so a whole run enters this block once.
    tests/test_parse.py compares the trees built both ways.
    """
    checked = ast.Node.__setattr__
    if checked is object.__setattr__:
        yield
        return
    ast.Node.__setattr__ = object.__setattr__
    try:
        yield
    finally:
        ast.Node.__setattr__ = checked


def parse_sql(text: str):
    if ast.Node.__setattr__ is object.__setattr__:  # a run's trusted block is open: no swap needed
        return parser.parse_sql(text)
    with trusted_node_attributes():
        return parser.parse_sql(text)


def split_statements(text: str, *, line_offset: int = 0) -> list[Statement]:
    """Statements of `text`; line numbers are shifted by `line_offset` (for file sections).

    PostgreSQL's parser finds where each statement starts and ends without building any tree;
    a statement's tree is built when it is first read (Statement.node), one at a time.
    """
    positions = _Positions(text)
    slices = _statement_slices(text)
    if slices is None:
        return _split_tolerant(text, positions, line_offset)
    if len(slices) >= packed.PACK_AT:
        # Columns from the start (packed/): no object per statement is ever made.
        return packed.statements_of(text, (_part(index, text, start, stop, positions, line_offset)
                                           for index, (start, stop) in enumerate(slices)))
    return [Statement.part_of(text, *_part(index, text, start, stop, positions, line_offset))
            for index, (start, stop) in enumerate(slices)]


# The parser holds a whole text's tree in memory while it splits it (ten times the text), so a
# large file is split a piece at a time, each piece ending after a semicolon at a line's end.
_CHUNK = 1 << 20


def _statement_slices(text: str) -> list[tuple[int, int]] | None:
    """(start, stop) of each statement, as the parser splits the whole text; None when the
    text does not parse.

    A piece cut after `;` and a line break that is not the end of a statement (the semicolon
    is inside a string, a comment, a dollar-quoted body, BEGIN ATOMIC ... END or a rule's
    action list) leaves that construct open, so the piece does not parse: it is then grown up
    to the next cut, twice as far each time, and only a text that does not parse to its end
    fails.
    """
    out: list[tuple[int, int]] = []
    start, length = 0, len(text)
    reach = _CHUNK
    while start < length:
        stop = length if length - start <= reach else _cut_after(text, start + reach)
        try:
            pieces = parser.split(text[start:stop], with_parser=True, only_slices=True)
        except parser.ParseError:
            if stop >= length:
                return None
            reach *= 2
            continue
        out.extend((start + piece.start, start + piece.stop) for piece in pieces)
        start, reach = stop, _CHUNK
    return out


def _cut_after(text: str, offset: int) -> int:
    """Just past the first `;` + line break at or after `offset`; the text's end if none."""
    at = text.find(";\n", offset)
    return len(text) if at < 0 else at + 2


def parse_alone(sql: str):
    """The tree of one statement's text, as split_statements found it; None if it does not
    parse on its own (it did within its file, so only a grammar quirk could do that)."""
    try:
        parsed = parse_sql(sql)
    except parser.ParseError:
        return None
    return parsed[0].stmt if len(parsed) == 1 else None


def _statement(index, text, start, end, positions, line_offset, node=None, error=None) -> Statement:
    return Statement.part_of(text, *_part(index, text, start, end, positions, line_offset), node, error)


def _part(index, text, start, end, positions, line_offset) -> tuple[int, int, int, int, int, int]:
    """(start, length, index, line, column, end line) of the statement text[start:end] holds:
    its sql is that text without the blanks and the semicolon that end it."""
    tail = text[end - 1] if end > start else ";"
    if tail == ";" or tail.isspace():
        sql = text[start:end].rstrip()
        if sql.endswith(";"):
            sql = sql[:-1].rstrip()
        length = len(sql)
    else:
        length = end - start  # the parser's slices end at the statement's last character
    starts = positions.starts
    i = bisect_right(starts, start) - 1
    line, column = i + 1, start - starts[i] + 1
    last = start + max(length - 1, 0)
    if i + 1 == len(starts) or starts[i + 1] > last:
        end_line = line  # no line starts after the statement's first character up to its last
    else:
        end_line, _ = positions.at(last)
    if line_offset:
        line, end_line = line + line_offset, end_line + line_offset
    # A one-line statement's end is the same int object as its start: a large file keeps a
    # line number per statement, not two.
    return start, length, index, line, column, line if end_line == line else end_line


def _split_tolerant(text: str, positions: _Positions, line_offset: int) -> list[Statement]:
    """Scanner-based split, then parse each piece alone, so one bad statement costs only itself."""
    out: list[Statement] = []
    for start, end in _scan_slices(text):
        piece = text[start:end]
        try:
            parsed = parser.split(piece, with_parser=True, only_slices=True)
        except parser.ParseError as err:
            message = str(err)
            m = re.search(r"at index (\d+)", message)
            where = int(m.group(1)) if m else None
            message = re.sub(r", at index \d+$", "", message)
            stmt = _statement(len(out), text, start, end, positions, line_offset, error=message)
            if where is not None:
                eline, ecol = positions.at(start + where)
                stmt.parse_error = f"{message} (line {eline + line_offset}, column {ecol})"
            out.append(stmt)
            continue
        for sub in parsed:
            out.append(_statement(len(out), text, start + sub.start, start + sub.stop, positions, line_offset,
                                  UNPARSED))
    return out


def _scan_slices(text: str) -> list[tuple[int, int]]:
    """Character slices of the statements, split at semicolons outside quotes and comments.

    Used only when the grammar rejected the file, so it must not rely on the grammar; an
    unterminated quote runs to the end of the text (and then fails to parse on its own).
    """
    slices, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == "'" or c == '"':
            i = _skip_quoted(text, i, c)
        elif c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif c == "$" and (m := _DOLLAR.match(text, i)):
            j = text.find(m.group(0), m.end())
            i = n if j < 0 else j + len(m.group(0))
        elif c == ";":
            slices.append((start, i))
            start, i = i + 1, i + 1
        else:
            i += 1
    slices.append((start, n))
    out = []
    for a, b in slices:
        a = _skip_comments(text, a, b)
        if text[a:b].strip():
            out.append((a, b))
    return out


_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)


def _skip_quoted(text: str, i: int, quote: str) -> int:
    escapes = quote == "'" and i > 0 and text[i - 1] in "eE"
    j = i + 1
    while j < len(text):
        ch = text[j]
        if escapes and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if text.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    return len(text)


def _skip_block_comment(text: str, i: int) -> int:
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(text)


def _skip_comments(text: str, start: int, stop: int) -> int:
    m = _LEADING.match(text, start, stop)
    return m.end() if m else start
