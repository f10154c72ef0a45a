"""The data that flows through the pipeline: sources → parse → catalog → locks → rules → report.

Every stage reads these types and adds to them; none reaches back to an earlier stage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


# slots: a large file keeps one of each per statement, and nothing adds attributes to them.
@dataclass(slots=True)
class Finding:
    rule: str  # stable id, "MS001"
    name: str  # kebab-case rule name
    severity: str  # info | warning | error
    message: str
    path: str
    line: int
    column: int = 1
    fix: str = ""
    lock: str = ""  # one-line lock summary, "AccessExclusiveLock on public.t until commit — ..."
    statement_index: int | None = None
    # Character offsets into the statement's sql that the text report underlines.
    span: tuple[int, int] | None = None

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


class _Unparsed:
    def __reduce__(self):
        return "UNPARSED"  # one object, also once pickled and loaded again

    def __repr__(self) -> str:
        return "UNPARSED"


UNPARSED = _Unparsed()  # a Statement.node to be parsed from the statement's text when read
_parse_alone = None  # parse.parse_alone, once a tree is first read


# slots: a large file keeps one per statement. The __init__ is written out because two fields
# are not held as given: `node` is left unset until it is first read (then __getattr__ parses
# `sql`, and later reads are plain slot reads), and `sql` may be a part of the text the
# statement was split from (part_of), read through _Part.
@dataclass(slots=True, init=False)
class Statement:
    index: int
    sql: str  # the statement's own source text, without the trailing semicolon
    line: int  # 1-based, in the migration file
    column: int  # 1-based
    end_line: int
    node: Any = UNPARSED  # pglast.ast node of the statement (from `sql` when UNPARSED); None: did not parse
    parse_error: str | None = None
    # When the statement came from a generated rendering (Alembic), where the user wrote it.
    origin_path: str | None = None
    in_do_block: bool = False  # one of the statements a DO block runs
    # The text the statement was split from (Statement.part_of), which `sql` is read from.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __init__(self, index: int, sql: str, line: int, column: int, end_line: int, node: Any = UNPARSED,
                 parse_error: str | None = None, origin_path: str | None = None, in_do_block: bool = False):
        self.index = index
        self._sql = sql
        self.line = line
        self.column = column
        self.end_line = end_line
        if node is not UNPARSED:
            self.node = node
        self.parse_error = parse_error
        self.origin_path = origin_path
        self.in_do_block = in_do_block
        self._text = None

    @classmethod
    def part_of(cls, text: str, start: int, length: int, index: int, line: int, column: int, end_line: int,
                node: Any = UNPARSED, parse_error: str | None = None) -> "Statement":
        """The statement whose sql is text[start:start + length]. It keeps where that is rather
        than a copy: a large file's statements would otherwise hold its text twice."""
        if length > _LENGTH_MASK:
            return cls(index, text[start:start + length], line, column, end_line, node, parse_error)
        statement = cls(index, start << _LENGTH_BITS | length, line, column, end_line, node, parse_error)
        statement._text = text
        return statement

    def part(self) -> tuple[str, int, int] | None:
        """(text, start, length) of a statement made by part_of; None when it holds its sql."""
        value = self._sql
        if value.__class__ is not int:
            return None
        return self._text, value >> _LENGTH_BITS, value & _LENGTH_MASK

    def __getattr__(self, name: str):
        # Only for a slot that is not set: `node` of a statement whose tree was not built yet.
        # The tree is built from `sql` when first read; `release()` lets it go once the analysis
        # is done with it, so that a large file never holds all its trees at once (they take
        # twenty times the text). A tree built again has the same nodes; their `location`s
        # count from the statement's start rather than the file's.
        if name != "node":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        global _parse_alone
        if _parse_alone is None:
            from .parse import parse_alone as _parse_alone  # the parser loads with the first tree read
        sql = self._sql
        if sql.__class__ is int:
            start = sql >> _LENGTH_BITS
            sql = self._text[start:start + (sql & _LENGTH_MASK)]
        node = _parse_alone(sql)
        object.__setattr__(self, "node", node)  # as read, not as assigned (packed/statements.py)
        return node

    @property
    def _node(self):
        """The tree as it is held: UNPARSED when it is built only when read."""
        try:
            return _NODE_SLOT.__get__(self)
        except AttributeError:
            return UNPARSED

    @_node.setter
    def _node(self, value) -> None:
        if value is UNPARSED:
            try:
                del self.node
            except AttributeError:
                pass
        else:
            self.node = value

    def release(self) -> None:
        """Drop the tree (it is parsed again from `sql` if read later); a statement that did
        not parse keeps its None."""
        try:
            if _NODE_SLOT.__get__(self) is not None:
                del self.node
        except AttributeError:
            pass  # not built

    def __getstate__(self):
        # The tree as it is held (UNPARSED stays UNPARSED), not as `node` reads it; the sql as
        # text of its own, without the text it was split from.
        return [self._node if name == "node" else None if name == "_text" else getattr(self, name)
                for name in _STATEMENT_SLOTS]

    def __setstate__(self, state) -> None:
        for name, value in zip(_STATEMENT_SLOTS, state):
            setattr(self, "_node" if name == "node" else "_sql" if name == "sql" else name, value)


# Statement._sql holds the sql itself, or where it is in Statement._text: start << 24 | length.
_LENGTH_BITS = 24
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


class _Part:
    """`Statement.sql`: the text in the slot, or the part of `_text` the slot says."""

    __slots__ = ()

    def __get__(self, statement, owner=None):
        if statement is None:
            return self
        value = statement._sql
        if value.__class__ is int:
            start = value >> _LENGTH_BITS
            return statement._text[start:start + (value & _LENGTH_MASK)]
        return value

    def __set__(self, statement, value) -> None:
        statement._sql = value


_STATEMENT_SLOTS = Statement.__slots__
_NODE_SLOT = Statement.__dict__["node"]
Statement._sql = Statement.__dict__["sql"]
Statement.sql = _Part()


@dataclass
class Migration:
    path: str  # as the user named it (relative when they gave a relative path)
    format: str  # sql | flyway | golang-migrate | dbmate | diesel | popx | alembic
    version: str
    description: str = ""
    kind: str = "versioned"  # versioned | repeatable | undo | baseline
    in_transaction: bool = True  # does the runner wrap the file in one transaction?
    transaction_reason: str = ""  # why in_transaction has its value, for the report
    text: str = ""  # the SQL as analysed (after section selection and placeholder substitution)
    statements: list[Statement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # reading/parsing findings
    # True when the file could not be read or a statement could not be parsed (exit 2).
    broken: bool = False
    # Extra per-format data (revision id for Alembic, the raw file path for sections, ...).
    meta: dict = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """What reaches production at once with it: a relation created there is not live yet.
        The migration itself, unless its reader knows of a larger unit (an Ory popx release)."""
        return self.meta.get("deploy_unit") or self.meta.get("key", self.path)


@dataclass(frozen=True, slots=True)
class Lock:
    relation: str  # schema-qualified, "public.orders"
    mode: str  # pg_locks name, "AccessExclusiveLock"

    def __reduce__(self):  # a pickle (migrasafe/parallel) rebuilt by one call, not field by field
        return Lock, (self.relation, self.mode)


@dataclass(frozen=True, slots=True)
class IndexLock:
    """A lock on an index. Every query that is planned against the table opens all its indexes
    (get_relation_info), so an AccessExclusiveLock on one makes the table's reads and writes
    wait as one on the table would."""

    index: str  # schema-qualified
    table: str  # its table; "" when the history never created the index
    mode: str

    def __reduce__(self):
        return IndexLock, (self.index, self.table, self.mode)


@dataclass(slots=True)
class Impact:
    """What one statement does to the relations it touches."""

    locks: list[Lock] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)  # relations whose relfilenode changes
    scans: list[str] = field(default_factory=list)  # relations read in full under the lock
    # Can PostgreSQL run it inside a transaction block at this version?
    transactional: bool = True
    # Statement-level notes the rules use, e.g. {"concurrently": True}.
    notes: dict = field(default_factory=dict)
    # Locks on existing indexes: apart from `locks`, which are on tables, views and sequences.
    index_locks: list[IndexLock] = field(default_factory=list)

    def __reduce__(self):
        return Impact, (self.locks, self.rewrites, self.scans, self.transactional, self.notes, self.index_locks)

    def mode_on(self, relation: str) -> str | None:
        for lock in self.locks:
            if lock.relation == relation:
                return lock.mode
        return None


@dataclass(slots=True)
class AnalysedStatement:
    statement: Statement
    impact: Impact
    in_transaction: bool  # was a transaction block open when it ran?
    # Relations (schema-qualified) that existed before this migration and so hold data and traffic.
    live: set[str] = field(default_factory=set)
    # Did its transaction already hold a lock blocking writes on a live table when it ran?
    strong_lock_held: bool = False
    findings: list[Finding] = field(default_factory=list)
    # Findings not reported because an earlier statement's finding gives the same advice (MS032).
    folded: list[Finding] = field(default_factory=list)
    # What a replay on a real server saw, when one ran: {"locks": [...], "rewrites": [...],
    # "duration_ms": ..., "lock_held_ms": {...}, "blocked_ms": {...}, ...}; the JSON report
    # carries it as the statement's "observed" key, whose keys docs/json-output.md lists.
    observed: dict | None = None


@dataclass
class MigrationResult:
    migration: Migration
    statements: list[AnalysedStatement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # findings not tied to one statement
    # Judged in parts (migrasafe/parallel): the statement this part stopped before, when it did.
    paused_at: int | None = None

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        packed = getattr(self.statements, "all_findings", None)  # packed/analysed.py
        if packed is not None:
            out.extend(packed())
            return out
        for s in self.statements:
            out.extend(s.findings)
        return out


@dataclass
class Report:
    pg_version: int
    results: list[MigrationResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # run-level (config, unmatched ignores)
    fail_on: str = "warning"
    # Files in migration folders that were not read (path → why): listed so none is skipped silently.
    skipped: dict[str, str] = field(default_factory=dict)
    # How the replay ran (server, sizes, production rows, per-migration totals), when one did;
    # the JSON report carries it as the top-level "replay" key.
    replay: dict | None = None

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for r in self.results:
            out.extend(r.all_findings())
        return out

    @property
    def broken(self) -> bool:
        """Some input could not be read or parsed: the check is incomplete (exit 2)."""
        return any(r.migration.broken for r in self.results) or any(f.rule == "MS099" for f in self.findings)
