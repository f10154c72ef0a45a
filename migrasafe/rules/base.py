"""How a detection function sees a statement, and how it reports what it found."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from pglast import ast, parser
from pglast.enums.parsenodes import ObjectType

from ..catalog.state import Catalog
from ..config import Config
from ..model import AnalysedStatement, Impact, Migration, Statement
from ..transaction import TxState


@dataclass
class Hit:
    message: str
    fix: str = ""  # concrete SQL for this statement; the rule's generic advice is used when empty
    relation: str | None = None  # the relation the lock line should describe
    span: tuple[int, int] | None = None  # character offsets into the statement's sql
    # This finding's own default severity, when it differs from the rule's (MS032 on weaker
    # locks); the user's `severity` setting still overrides it.
    severity: str | None = None


@dataclass
class Context:
    migration: Migration
    statement: Statement
    impact: Impact
    catalog: Catalog  # the schema before this statement
    tx: TxState  # the transaction state before this statement
    config: Config
    earlier: list[AnalysedStatement]  # statements of this migration already analysed
    # The relations of the statement's locks that are live (AnalysedStatement.live), when known.
    live_relations: set | None = None
    # For a statement of a routine's body judged at the call that runs it: which routine, and
    # where the statement is written (" in function f (line 6)"), for the message.
    run_by: str = ""
    # For a statement of a DO block: the PL/pgSQL names the block declares (doblocks.Block).
    variables: frozenset = frozenset()

    @property
    def node(self):
        return self.statement.node

    @property
    def pg_version(self) -> int:
        return self.config.pg_version

    def live(self, relation: str) -> bool:
        return self.catalog.is_live(relation)

    def holds_rows(self, relation: str) -> bool:
        """Live, and not truncated earlier in this transaction: what reads or rewrites it costs
        nothing then. A DELETE without WHERE leaves every tuple in the heap until the commit."""
        return self.live(relation) and not (self.tx.open and relation in self.tx.emptied)

    def altered_live_table(self) -> str | None:
        """The live table an ALTER TABLE changes; None for other statements and for new tables."""
        cached = self.__dict__.get("_altered", self)
        if cached is self:
            cached = self.__dict__["_altered"] = self._altered_live_table()
        return cached

    def _altered_live_table(self) -> str | None:
        node = self.node
        if not isinstance(node, ast.AlterTableStmt) or node.objtype != ObjectType.OBJECT_TABLE:
            return None
        table = self.catalog.qualify(node.relation.schemaname, node.relation.relname)
        # ALTER TABLE IF EXISTS of a table the history never created: the migration exists
        # because the table does, so it is live; of one the history dropped, a no-op.
        return table if self.live(table) else None

    def blocked(self, *relations: str) -> str:
        """What waits on these relations while the statement runs: "writes", or "reads and writes"
        when its own lock, or one this transaction already holds on them, is AccessExclusiveLock
        (a DROP CONSTRAINT in the same ALTER, an earlier DROP INDEX)."""
        from ..locks.modes import level

        modes = [l.mode for l in self.impact.locks if l.relation in relations]
        if self.tx.open:
            modes += [self.tx.held[r] for r in relations if r in self.tx.held]
        strongest = max(modes, key=level, default="")
        return "reads and writes" if strongest == "AccessExclusiveLock" else "writes"

    def live_locks(self):
        cached = self.__dict__.get("_live_locks")
        if cached is None:
            live = self.live_relations
            cached = self.__dict__["_live_locks"] = [l for l in self.impact.locks if (
                l.relation in live if live is not None else self.live(l.relation))]
        return cached

    def live_index_locks(self):
        """The statement's locks on indexes that other sessions use (Catalog.index_is_live)."""
        return [l for l in self.impact.index_locks if self.catalog.index_is_live(l.index)]

    def span_of(self, word: str) -> tuple[int, int] | None:
        """Where a keyword (or a run of them, "FOREIGN KEY") first occurs in the statement."""
        sql = self.statement.sql
        span = keyword_span(sql, word)
        if span is None:
            at = sql.upper().find(word.upper())
            span = (at, at + len(word)) if at >= 0 else None
        return span


Detector = Callable[[Context], Iterable[Hit]]
DETECTORS: dict[str, Detector] = {}
# Statement node class → the rules that can fire on it; rules that look at every statement are
# listed under None.
NODE_TYPES: dict[str, tuple] = {}
# Rule id -> the ALTER TABLE subcommand types (AlterTableCmd.subtype) it looks at: on an ALTER
# TABLE with none of them, the rule cannot fire and is not run.
SUBCOMMANDS: dict[str, frozenset] = {}


def detects(rule_id: str, *node_types, subcommands=()):
    def register(func: Detector) -> Detector:
        DETECTORS[rule_id] = func
        NODE_TYPES[rule_id] = node_types
        if subcommands:
            SUBCOMMANDS[rule_id] = frozenset(subcommands)
        return func

    return register


def detectors_for(enabled) -> dict:
    """{node class or None: [(rule id, detector)]} for the enabled rules."""
    from . import DETECTORS as registered  # noqa: F401 - loads every rule module, which register here

    table: dict = {}
    for rule_id, func in DETECTORS.items():
        if enabled(rule_id):
            for node_type in NODE_TYPES[rule_id] or (None,):
                table.setdefault(node_type, []).append((rule_id, func))
    return table


def for_subcommands(detectors: list, subtypes) -> list:
    """Of an ALTER TABLE's detectors, those that can fire on one with these subcommand types."""
    return [(rule_id, func) for rule_id, func in detectors
            if rule_id not in SUBCOMMANDS or not SUBCOMMANDS[rule_id].isdisjoint(subtypes)]


_COMMENTS = ("C_COMMENT", "SQL_COMMENT")


def keyword_span(sql: str, phrase: str) -> tuple[int, int] | None:
    """Character offsets of the first run of these keywords, found with PostgreSQL's own
    scanner so that a name, a string or a comment holding the same word never matches."""
    words = phrase.upper().split()
    tokens = tokens_of(sql)
    count = len(words)
    for i in range(len(tokens) - count + 1):
        run = tokens[i:i + count]
        # A keyword token is ASCII (PostgreSQL looks keywords up by their ASCII spelling), so
        # its length is that of the word it spells: a cheap test before the comparison.
        if all(t.kind != "NO_KEYWORD" and t.end + 1 - t.start == len(w) and sql[t.start:t.end + 1].upper() == w
               for t, w in zip(run, words)):
            return run[0].start, run[-1].end + 1
    return None


_last_scanned: tuple[str, list] = ("", [])


def tokens_of(sql: str) -> list:
    """The statement's tokens without comments; the last statement's are kept, as the rules that
    fire on one statement look for their keywords in it one after the other."""
    global _last_scanned
    if _last_scanned[0] != sql:
        _last_scanned = (sql, [t for t in parser.scan(sql) if t.name not in _COMMENTS])
    return _last_scanned[1]


def insert_after(sql: str, phrase: str, words: str) -> str | None:
    """The statement as the user wrote it, with `words` added after the first `phrase`."""
    span = keyword_span(sql, phrase)
    if span is None:
        return None
    return f"{sql[:span[1]]} {words}{sql[span[1]:]};"


def render(node) -> str:
    """SQL text for a (possibly edited copy of a) statement node."""
    return expression(node) + ";"


def expression(node) -> str:
    """SQL text for a node: an expression, a type, a statement without its semicolon."""
    from pglast.stream import RawStream  # only when a fix is rendered: it is slow to import

    _complete_printers()
    return RawStream()(node)


def _complete_printers() -> None:
    """pglast prints every ALTER TABLE command a user can write but ENABLE ALWAYS RULE; without
    it, a fix for a statement that holds one could not be rendered."""
    from pglast.printers.ddl import AlterTableTypePrinter

    if not hasattr(AlterTableTypePrinter, "AT_EnableAlwaysRule"):
        def enable_always_rule(self, node, output):
            output.write("ENABLE ALWAYS RULE ")
            output.print_name(node.name)

        AlterTableTypePrinter.AT_EnableAlwaysRule = enable_always_rule


def edited(node, **changes):
    """A shallow copy with some attributes replaced; the original tree is left alone."""
    clone = object.__new__(type(node))
    for attr in node:
        object.__setattr__(clone, attr, getattr(node, attr, None))
    for key, value in changes.items():
        setattr(clone, key, value)
    return clone
