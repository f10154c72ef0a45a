"""`migration.statements` of a large migration: its statements as columns.

Each statement is a row of small-integer arrays (index, line, column, end line, and where its
sql is in the migration's text); anything else a statement holds (its own sql, a tree given
rather than parsed, a parse error, an origin path) is kept for that row only.
"""
from __future__ import annotations

from array import array

from ..model import UNPARSED, Statement
from .rows import Rows

_NUMBERS = ("index", "line", "column", "end_line")
_LOW, _HIGH = -(1 << 31), (1 << 31) - 1  # what an array("i") holds
# Fields that are usually their default: kept only for the rows where they are not.
_DEFAULTS = {"parse_error": None, "origin_path": None, "in_do_block": False}

_new = object.__new__
_set = object.__setattr__


class PackedStatements(Rows):
    def __init__(self, statements: list[Statement]):
        super().__init__()
        part = statements[0].part() if statements else None
        self._text = part[0] if part is not None else None  # the text the statements are parts of
        self._numbers = tuple(array("i") for _ in _NUMBERS)
        self._start = array("q")  # -1: the row's sql is its own, in _extra
        self._length = array("i")
        self._extra: dict[int, dict] = {}
        for statement in statements:
            self._add(statement)

    @classmethod
    def of_parts(cls, text: str, parts) -> "PackedStatements":
        table = cls([])
        table._text = text
        add_start, add_length = table._start.append, table._length.append
        add_index, add_line, add_column, add_end_line = (column.append for column in table._numbers)
        for start, length, index, line, column, end_line in parts:
            if not (_LOW <= line <= _HIGH and _LOW <= end_line <= _HIGH and length <= _HIGH):
                # What the arrays cannot hold (a file of more than 2**31 lines): a row of its own.
                table._add(Statement.part_of(text, start, length, index, line, column, end_line))
                continue
            add_start(start)
            add_length(length)
            add_index(index)
            add_line(line)
            add_column(column)
            add_end_line(end_line)
        return table

    def __len__(self) -> int:
        return len(self._start)

    def _add(self, statement: Statement) -> None:
        row = len(self._start)
        extra = {}
        part = statement.part()
        if part is not None and part[0] is self._text:
            self._start.append(part[1])
            self._length.append(part[2])
        else:
            self._start.append(-1)
            self._length.append(0)
            extra["sql"] = statement.sql
        for value, column, name in zip((statement.index, statement.line, statement.column, statement.end_line),
                                       self._numbers, _NUMBERS):
            if value.__class__ is int and _LOW <= value <= _HIGH:
                column.append(value)
            else:
                column.append(0)
                extra[name] = value
        if statement.parse_error is not None:
            extra["parse_error"] = statement.parse_error
            # A statement that did not parse keeps its None; any other tree is its sql's, built
            # again when read.
            node = statement._node
            if node is not UNPARSED:
                extra["node"] = node
        if statement.origin_path is not None:
            extra["origin_path"] = statement.origin_path
        if statement.in_do_block is not False:
            extra["in_do_block"] = statement.in_do_block
        if extra:
            self._extra[row] = extra

    def _make(self, row: int) -> "StatementRow":
        view = _new(StatementRow)
        view._table = self
        view._row = row
        return view

    def plain(self, row: int) -> Statement:
        """A Statement of its own equal to the row, cheaper to make and read than the row's
        object but not the statement itself: changes to it are not the row's."""
        extra = self._extra.get(row)
        if extra is None:
            index, line, column, end_line = self._numbers
            return Statement.part_of(self._text, self._start[row], self._length[row], index[row], line[row],
                                     column[row], end_line[row])
        view = self._view(row)
        return Statement(view.index, view.sql, view.line, view.column, view.end_line, extra.get("node", UNPARSED),
                         view.parse_error, view.origin_path, view.in_do_block)

    def _store(self, row: int, name: str, value) -> None:
        extra = self._extra.setdefault(row, {})
        if name == "sql":
            self._start[row] = -1
            extra["sql"] = value
        elif name in _NUMBERS:
            if value.__class__ is int and _LOW <= value <= _HIGH:
                self._numbers[_NUMBERS.index(name)][row] = value
                extra.pop(name, None)
            else:
                extra[name] = value
        elif value is _DEFAULTS[name]:
            extra.pop(name, None)
        else:
            extra[name] = value
        if not extra:
            del self._extra[row]


def _number(name: str) -> property:
    position = _NUMBERS.index(name)

    def get(row: "StatementRow"):
        table = row._table
        if table._extra:
            extra = table._extra.get(row._row)
            if extra is not None and name in extra:
                return extra[name]
        return table._numbers[position][row._row]

    def set_(row: "StatementRow", value) -> None:
        row._table._store(row._row, name, value)

    return property(get, set_)


def _usually(name: str) -> property:
    default = _DEFAULTS[name]

    def get(row: "StatementRow"):
        extra = row._table._extra.get(row._row)
        return extra.get(name, default) if extra is not None else default

    def set_(row: "StatementRow", value) -> None:
        row._table._store(row._row, name, value)

    return property(get, set_)


class StatementRow(Statement):
    """A statement of a PackedStatements: its fields are read from the columns and what is
    assigned to them is written there. Only its tree is its own: built from `sql` when first
    read (or the None of a statement that did not parse), kept while the row object lives."""

    __slots__ = ("_table", "_row", "__weakref__")

    index = _number("index")
    line = _number("line")
    column = _number("column")
    end_line = _number("end_line")
    parse_error = _usually("parse_error")
    origin_path = _usually("origin_path")
    in_do_block = _usually("in_do_block")

    @property
    def sql(self) -> str:
        table = self._table
        start = table._start[self._row]
        if start < 0:
            return table._extra[self._row]["sql"]
        return table._text[start:start + table._length[self._row]]

    @sql.setter
    def sql(self, value: str) -> None:
        self._table._store(self._row, "sql", value)

    def part(self) -> tuple[str, int, int] | None:
        table = self._table
        start = table._start[self._row]
        return (table._text, start, table._length[self._row]) if start >= 0 else None

    def __getattr__(self, name: str):
        if name != "node":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        extra = self._table._extra.get(self._row)
        if extra is not None and "node" in extra:
            node = extra["node"]
        else:
            from ..parse import parse_alone

            node = parse_alone(self.sql)
        _set(self, "node", node)
        return node

    def __eq__(self, other):
        if isinstance(other, Statement):
            return _compared(self) == _compared(other)
        return NotImplemented

    __hash__ = None

    def __reduce__(self):
        # A copy or a pickle is a plain Statement of its own.
        return Statement, (self.index, self.sql, self.line, self.column, self.end_line, self._node,
                           self.parse_error, self.origin_path, self.in_do_block)


def _compared(statement: Statement) -> tuple:
    return (statement.index, statement.sql, statement.line, statement.column, statement.end_line, statement.node,
            statement.parse_error, statement.origin_path, statement.in_do_block)
