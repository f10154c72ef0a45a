"""`result.statements` of a large migration: its analysed statements as columns.

Row i is the analysis of `migration.statements[i]`. Per row it keeps a reference to the impact
and to the live set (both shared between equal statements, records.py) and one byte of flags;
findings, folded findings and what a replay observed are kept for the rows that have them.
"""
from __future__ import annotations

from ..model import AnalysedStatement, Finding
from ..shared import NONE
from .rows import Rows
from .statements import PackedStatements, StatementRow

_IN_TRANSACTION, _STRONG_LOCK_HELD = 1, 2
_FLAGS = {"in_transaction": _IN_TRANSACTION, "strong_lock_held": _STRONG_LOCK_HELD}
_LISTS = ("findings", "folded")

_new = object.__new__


class PackedAnalysed(Rows):
    def __init__(self, statements: PackedStatements):
        super().__init__()
        self._statements = statements
        self._impacts: list = []
        self._lives: list = []
        self._flags = bytearray()
        self._lists: dict[str, dict[int, list]] = {name: {} for name in _LISTS}
        self._observed: dict[int, dict] = {}
        # A statement other than the row's own, flags that are not plain booleans.
        self._extra: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self._flags)

    def append(self, analysed: AnalysedStatement) -> None:
        row = len(self._flags)
        statement = analysed.statement
        if not (statement.__class__ is StatementRow and statement._table is self._statements and statement._row == row):
            self._extra_field(row, "statement", statement)
        self._impacts.append(analysed.impact)
        self._lives.append(analysed.live)
        in_transaction, strong = analysed.in_transaction, analysed.strong_lock_held
        if (in_transaction is True or in_transaction is False) and (strong is True or strong is False):
            self._flags.append(in_transaction | strong << 1)
        else:
            self._flags.append(0)
            self._store(row, "in_transaction", in_transaction)
            self._store(row, "strong_lock_held", strong)
        if analysed.findings:
            self._lists["findings"][row] = analysed.findings
        if analysed.folded:
            self._lists["folded"][row] = analysed.folded
        if analysed.observed is not None:
            self._observed[row] = analysed.observed

    def all_findings(self) -> list[Finding]:
        """Every row's findings, in row order (MigrationResult.all_findings)."""
        findings = self._lists["findings"]
        return [f for row in sorted(findings) for f in findings[row]]

    def with_findings(self) -> list["AnalysedRow"]:
        """The rows that have findings, in order: the others need not be made to be skipped."""
        return [self._view(row) for row in sorted(self._lists["findings"])]

    def plain(self, start: int, stop: int) -> list[AnalysedStatement]:
        """AnalysedStatements of their own equal to rows start..stop, for a reader that only
        reads (the JSON report): cheaper to make and read than the rows' objects, but changes
        to them are not the rows'."""
        statements, flags, impacts, lives = self._statements, self._flags, self._impacts, self._lives
        findings, folded = self._lists["findings"], self._lists["folded"]
        observed, extras = self._observed, self._extra
        out = []
        for row in range(start, min(stop, len(self))):
            if row in extras:
                view = self._view(row)
                out.append(AnalysedStatement(view.statement, view.impact, view.in_transaction, view.live,
                                             view.strong_lock_held, view.findings, view.folded, view.observed))
                continue
            bits = flags[row]
            out.append(AnalysedStatement(statements.plain(row), impacts[row], bool(bits & _IN_TRANSACTION),
                                         lives[row], bool(bits & _STRONG_LOCK_HELD), findings.get(row, NONE),
                                         folded.get(row, NONE), observed.get(row)))
        return out

    def sql_length(self) -> int:
        """How long all the rows' sql is together, read from the columns."""
        statements = self._statements
        rows = len(self)
        total = sum(statements._length[:rows])
        for row, extra in statements._extra.items():
            if row < rows and "sql" in extra:
                total += len(extra["sql"])
        for row, extra in self._extra.items():
            if "statement" in extra:
                total += len(extra["statement"].sql) - len(statements[row].sql)
        return total

    def _make(self, row: int) -> "AnalysedRow":
        view = _new(AnalysedRow)
        view._table = self
        view._row = row
        return view

    def _store(self, row: int, name: str, value) -> None:
        if name == "statement":
            own = value.__class__ is StatementRow and value._table is self._statements and value._row == row
            self._extra_field(row, name, None if own else value)
        elif name == "impact":
            self._impacts[row] = value
        elif name == "live":
            self._lives[row] = value
        elif name in _FLAGS:
            bit = _FLAGS[name]
            self._flags[row] = self._flags[row] | bit if value is True else self._flags[row] & ~bit
            self._extra_field(row, name, None if value is True or value is False else value)
        elif name in _LISTS:
            if value:
                self._lists[name][row] = value
            else:
                self._lists[name].pop(row, None)
        elif name == "observed":
            if value is None:
                self._observed.pop(row, None)
            else:
                self._observed[row] = value

    def _extra_field(self, row: int, name: str, value) -> None:
        if value is None:
            extra = self._extra.get(row)
            if extra is not None:
                extra.pop(name, None)
                if not extra:
                    del self._extra[row]
        else:
            self._extra.setdefault(row, {})[name] = value


def _field(name: str, get) -> property:
    def set_(row: "AnalysedRow", value) -> None:
        row._table._store(row._row, name, value)

    return property(get, set_)


def _statement(row: "AnalysedRow"):
    table = row._table
    extra = table._extra.get(row._row)
    if extra is not None and "statement" in extra:
        return extra["statement"]
    return table._statements._view(row._row)


def _flag(name: str):
    bit = _FLAGS[name]

    def get(row: "AnalysedRow"):
        table = row._table
        extra = table._extra.get(row._row)
        if extra is not None and name in extra:
            return extra[name]
        return bool(table._flags[row._row] & bit)

    return get


def _listed(name: str):
    def get(row: "AnalysedRow"):
        return row._table._lists[name].get(row._row, NONE)

    def set_(row: "AnalysedRow", value) -> None:
        row._table._store(row._row, name, value or NONE)

    return property(get, set_)


class AnalysedRow(AnalysedStatement):
    """An analysed statement of a PackedAnalysed: its fields are read from the columns and
    what is assigned to them is written there. An empty list assigned to `findings` or
    `folded` reads as the shared empty one (shared.NONE), which refuses changes in place: a
    row keeps no empty list of its own."""

    __slots__ = ("_table", "_row", "__weakref__")

    statement = _field("statement", _statement)
    impact = _field("impact", lambda row: row._table._impacts[row._row])
    live = _field("live", lambda row: row._table._lives[row._row])
    in_transaction = _field("in_transaction", _flag("in_transaction"))
    strong_lock_held = _field("strong_lock_held", _flag("strong_lock_held"))
    findings = _listed("findings")
    folded = _listed("folded")
    observed = _field("observed", lambda row: row._table._observed.get(row._row))

    def __eq__(self, other):
        if isinstance(other, AnalysedStatement):
            return _compared(self) == _compared(other)
        return NotImplemented

    __hash__ = None

    def __reduce__(self):
        # A copy or a pickle is a plain AnalysedStatement of its own.
        return AnalysedStatement, _compared(self)


def _compared(analysed: AnalysedStatement) -> tuple:
    return (analysed.statement, analysed.impact, analysed.in_transaction, analysed.live,
            analysed.strong_lock_held, analysed.findings, analysed.folded, analysed.observed)
