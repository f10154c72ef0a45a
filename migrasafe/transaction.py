"""Transaction state while a migration runs: open or not, timeouts, locks held until commit."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pglast import ast
from pglast.enums.parsenodes import TransactionStmtKind as TK, VariableSetKind as VK

from .locks.modes import blocks_writes, level

# Zones with a fixed offset of zero. PostgreSQL skips the rewrite of timestamp → timestamptz when
# the session's zone is one of these (an offset of 0 that never changed), whatever its spelling.
UTC_ZONES = {
    "utc", "etc/utc", "uct", "etc/uct", "gmt", "etc/gmt", "gmt0", "etc/gmt0", "gmt+0", "gmt-0",
    "etc/gmt+0", "etc/gmt-0", "greenwich", "etc/greenwich", "universal", "etc/universal", "zulu",
    "etc/zulu",
}
_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
TIMEOUTS = ("lock_timeout", "statement_timeout")


def parse_duration_ms(value) -> int | None:
    """PostgreSQL's time setting syntax: 2000, '2s', '500ms', '1min'. 0 means no timeout."""
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", str(value))
    if not m:
        return None
    return int(float(m.group(1)) * _UNITS_MS[m.group(2) or "ms"])


@dataclass
class TxState:
    open: bool = False
    explicit: bool = False
    session: dict[str, int] = field(default_factory=dict)  # SET name = ms (session level)
    local: dict[str, int] = field(default_factory=dict)  # SET LOCAL, ends with the transaction
    held: dict[str, str] = field(default_factory=dict)  # live relation → strongest mode this transaction
    # Where the statement was: its line, or "12 of revision abc" once a later migration continues
    # the transaction (Alembic runs a whole upgrade in one).
    exclusive_ddl: dict[str, int | str] = field(default_factory=dict)  # live table → AccessExclusive DDL
    # Live table → the LOCK TABLE ... IN ACCESS EXCLUSIVE MODE that took it (not DDL: MS028 leaves
    # an explicit lock alone; a backfill (MS030) or a long read (MS034) under it blocks every
    # query all the same).
    exclusive_lock: dict[str, int | str] = field(default_factory=dict)
    # The statement being carried past (control() sees each first): its line, and whether it is
    # a LOCK TABLE, so that hold() knows where the locks it is told about came from.
    current: tuple[int, bool] = (0, False)
    # The session settings (SET timeouts, TimeZone) as they were when the transaction began, and
    # at each savepoint: PostgreSQL undoes a SET made inside a transaction that rolls back.
    settings_at_begin: tuple | None = None
    savepoints: list[tuple[str, tuple]] = field(default_factory=list)
    not_valid: dict[tuple[str, str], int | str] = field(default_factory=dict)  # (table, constraint) → ADD
    # Live table → the TRUNCATE that emptied it in this transaction: no rows to read or rewrite.
    # A DELETE is not one: the deleted tuples stay in the heap until the commit.
    emptied: dict[str, int | str] = field(default_factory=dict)
    # Enum labels this transaction added, (type, label) → the ADD VALUE's line: PostgreSQL refuses
    # to use them before the commit, unless the type itself is new in the transaction (types_created).
    new_enum_values: dict[tuple[str, str], int | str] = field(default_factory=dict)
    types_created: set[str] = field(default_factory=set)
    # Sequences among the relations locked: one dropped with its column or table is gone from the
    # catalog by the next statement, yet its lock stays in `held`, and no query waits on it that
    # does not wait on the table already.
    sequences: set[str] = field(default_factory=set)
    start_line: int = 0
    # The migration that last ran in this session (one connection), when migrations share one.
    last_migration: str | None = None
    # SET TimeZone in the session / for the transaction: None when never set (the server's own).
    zone: str | None = None
    zone_local: str | None = None
    # The run of statements sent in one piece (goose's StatementBegin/End block, a Supabase CLI
    # batch) whose implicit transaction is open: (first index, last index, its name).
    query_block: tuple[int, int, str] | None = None

    def timezone_utc(self, default: bool) -> bool:
        """Is the session's TimeZone UTC? `default` says so for the server's own setting."""
        zone = self.zone_local if self.open and self.zone_local is not None else self.zone
        return default if zone is None else is_utc(zone)

    def timeout_ms(self, name: str) -> int | None:
        value = self.setting_ms(name)
        return value if value else None  # 0 means none

    def setting_ms(self, name: str) -> int | None:
        """The value a SET in this session gave the timeout (0 included); None when none did."""
        return self.local.get(name, self.session.get(name)) if self.open else self.session.get(name)

    def _settings(self) -> tuple:
        return dict(self.session), dict(self.local), self.zone, self.zone_local

    def _restore(self, settings: tuple) -> None:
        session, local, self.zone, self.zone_local = settings
        self.session, self.local = dict(session), dict(local)

    def begin(self, line: int, explicit: bool) -> None:
        self.open, self.explicit, self.start_line = True, explicit, line
        self._clear()
        self.settings_at_begin = self._settings()

    def end(self, rolled_back: bool = False) -> None:
        if rolled_back and self.open and self.settings_at_begin is not None:
            self._restore(self.settings_at_begin)  # SET LOCAL ends below, as at COMMIT
        self.open = self.explicit = False
        self._clear()

    def _clear(self) -> None:
        """What lasts one transaction, as none has been done in it yet."""
        self.settings_at_begin, self.savepoints = None, []
        self.held, self.exclusive_ddl, self.exclusive_lock, self.not_valid, self.local = {}, {}, {}, {}, {}
        self.emptied = {}
        self.new_enum_values, self.types_created = {}, set()
        self.sequences = set()
        self.zone_local = None
        self.query_block = None

    def control(self, node, line: int) -> bool:
        """Apply BEGIN/COMMIT/ROLLBACK and SET of timeouts; True when the node was one of them."""
        self.current = (line, isinstance(node, ast.LockStmt))
        if isinstance(node, ast.TransactionStmt):
            if node.kind in (TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START):
                if not self.open:
                    self.begin(line, explicit=True)
            elif node.kind in (TK.TRANS_STMT_COMMIT, TK.TRANS_STMT_ROLLBACK, TK.TRANS_STMT_PREPARE):
                chain = bool(getattr(node, "chain", False))
                self.end(rolled_back=node.kind == TK.TRANS_STMT_ROLLBACK)
                if chain:
                    self.begin(line, explicit=True)
            elif self.open and node.kind == TK.TRANS_STMT_SAVEPOINT:
                self.savepoints.append((node.savepoint_name, self._settings()))
            elif self.open and node.kind in (TK.TRANS_STMT_ROLLBACK_TO, TK.TRANS_STMT_RELEASE):
                names = [name for name, _ in self.savepoints]
                if node.savepoint_name in names:
                    at = len(names) - 1 - names[::-1].index(node.savepoint_name)  # the latest of that name
                    if node.kind == TK.TRANS_STMT_ROLLBACK_TO:
                        self._restore(self.savepoints[at][1])
                        del self.savepoints[at + 1:]  # the savepoint itself stays
                    else:
                        del self.savepoints[at:]
            return True
        if isinstance(node, ast.VariableSetStmt) and node.name in TIMEOUTS:
            target = self.local if node.is_local else self.session
            if node.kind in (VK.VAR_RESET, VK.VAR_SET_DEFAULT):
                target.pop(node.name, None)
                if not node.is_local:
                    self.local.pop(node.name, None)  # a plain SET replaces a SET LOCAL made before it
            elif node.kind == VK.VAR_SET_VALUE and node.args:
                value = _const(node.args[0])
                ms = parse_duration_ms(value)
                if ms is not None:
                    if node.is_local and not self.open:
                        return True  # SET LOCAL outside a transaction has no effect
                    target[node.name] = ms
                    if not node.is_local:
                        self.local.pop(node.name, None)
            return True
        if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "timezone":
            self._set_zone(node)
            return True
        if isinstance(node, ast.SelectStmt):
            return self._set_config(node)
        return False

    def _set_zone(self, node: ast.VariableSetStmt) -> None:
        if node.is_local and not self.open:
            return  # SET LOCAL outside a transaction has no effect
        if node.kind == VK.VAR_SET_VALUE and node.args:
            value = _const(node.args[0])
            zone = "?" if value is None else str(value)  # an expression: not known to be UTC
        elif node.kind in (VK.VAR_RESET, VK.VAR_SET_DEFAULT):
            zone = None
        else:
            return
        if node.is_local:
            self.zone_local = zone
        else:
            self.zone, self.zone_local = zone, None

    def _set_config(self, node: ast.SelectStmt) -> bool:
        """SELECT set_config('lock_timeout', '2s', false) — the function form of SET."""
        for target in node.targetList or ():
            fc = target.val
            if not isinstance(fc, ast.FuncCall) or fc.funcname[-1].sval != "set_config":
                continue
            args = [_const(a) for a in fc.args or ()]
            if len(args) == 3 and isinstance(args[0], str) and args[0].lower() == "timezone":
                zone = "?" if args[1] is None else str(args[1])
                if args[2] is True:
                    if self.open:
                        self.zone_local = zone
                else:
                    self.zone, self.zone_local = zone, None
                return True
            if len(args) == 3 and args[0] in TIMEOUTS:
                ms = parse_duration_ms(args[1])
                if ms is not None:
                    (self.local if args[2] is True and self.open else self.session)[args[0]] = ms
                    if args[2] is not True:
                        self.local.pop(args[0], None)
                return True
        return False

    def until(self) -> str:
        """When the locks taken now are released."""
        if not self.open:
            return "until the statement ends"
        if self.query_block is not None and not self.explicit:
            return f"until the end of {self.query_block[2]}"
        return "until commit"

    def carry_over(self, label: str) -> None:
        """The next migration continues this transaction: earlier lines now belong to `label`."""
        for where in (self.exclusive_ddl, self.exclusive_lock, self.not_valid, self.emptied):
            for key, line in where.items():
                if isinstance(line, int):
                    where[key] = f"{line} of {label}"

    def hold(self, relation: str, mode: str) -> None:
        if self.open:
            current = self.held.get(relation)
            if current is None or level(mode) > level(current):
                self.held[relation] = mode
            line, explicit_lock = self.current
            if explicit_lock and mode == "AccessExclusiveLock":
                self.exclusive_lock.setdefault(relation, line)

    def renamed(self, old: str, new: str) -> None:
        """A relation this transaction holds locks on was renamed (or moved to another schema): its
        locks stay held, on the same table under its new name, which later statements use."""
        if old == new:
            return
        for where in (self.held, self.exclusive_ddl, self.exclusive_lock, self.emptied):
            if old in where:
                merged = {}
                for key, value in where.items():
                    if key == old:
                        key = new
                        earlier = where.get(new)
                        if earlier is not None and where is self.held and level(earlier) > level(value):
                            value = earlier
                    if key not in merged:
                        merged[key] = value
                where.clear()
                where.update(merged)
        self.not_valid = {((new if table == old else table), name): line
                          for (table, name), line in self.not_valid.items()}

    def exclusive_held(self) -> dict[str, int | str]:
        """Live table → where this transaction took AccessExclusiveLock on it, by DDL or LOCK TABLE."""
        if not self.open:
            return {}
        held = dict(self.exclusive_ddl)
        for table, line in self.exclusive_lock.items():
            held.setdefault(table, line)
        return held

    def blocking_held(self) -> dict[str, str]:
        return {rel: mode for rel, mode in self.held.items() if blocks_writes(mode)}


_RELATION_TYPES = frozenset({"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE",
                             "OBJECT_SEQUENCE"})


def renamed_relation(node, catalog) -> tuple[str, str] | None:
    """(old, new) qualified names of a relation an ALTER ... RENAME TO or SET SCHEMA renames."""
    if isinstance(node, ast.RenameStmt) and node.relation is not None and node.renameType.name in _RELATION_TYPES:
        old = catalog.qualify(node.relation.schemaname, node.relation.relname)
        return old, f"{old.split('.')[0]}.{node.newname}"
    if isinstance(node, ast.AlterObjectSchemaStmt) and node.relation is not None \
            and node.objectType.name in _RELATION_TYPES:
        old = catalog.qualify(node.relation.schemaname, node.relation.relname)
        return old, f"{node.newschema}.{old.split('.', 1)[1]}"
    return None


def is_utc(zone) -> bool:
    if isinstance(zone, (int, float)) and not isinstance(zone, bool):
        return zone == 0  # SET TIME ZONE 0: a fixed offset of zero hours
    text = str(zone).strip().lower()
    digits = text.lstrip("+-").replace(":", "")  # 0, -0, +00:00 (SET TIME ZONE INTERVAL '+00:00' ...)
    if digits.isdigit():
        return int(digits) == 0
    return text in UTC_ZONES


def _const(node):
    if isinstance(node, ast.A_Const) and node.val is not None:
        val = node.val
        for attr in ("ival", "fval", "sval", "boolval"):
            if hasattr(val, attr):
                return getattr(val, attr)
    if isinstance(node, ast.TypeCast):
        return _const(node.arg)
    return None
