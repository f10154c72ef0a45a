"""PostgreSQL's table lock modes, as pg_locks names them, and what each one blocks."""
from __future__ import annotations

# In order of strength (PostgreSQL's lock levels 1..8).
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)

# The conflict table from the PostgreSQL documentation ("Conflicting Lock Modes").
CONFLICTS = {
    "AccessShareLock": {"AccessExclusiveLock"},
    "RowShareLock": {"ExclusiveLock", "AccessExclusiveLock"},
    "RowExclusiveLock": {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "ShareUpdateExclusiveLock": {
        "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
        "AccessExclusiveLock",
    },
    "ShareLock": {
        "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock",
        "AccessExclusiveLock",
    },
    "ShareRowExclusiveLock": {
        "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
        "ExclusiveLock", "AccessExclusiveLock",
    },
    "ExclusiveLock": set(MODES) - {"AccessShareLock"},
    "AccessExclusiveLock": set(MODES),
}

# Short names used in SQL (LOCK TABLE ... IN <mode> MODE) and in pglast's LockStmt.mode numbers.
BY_LEVEL = {i + 1: mode for i, mode in enumerate(MODES)}


def level(mode: str) -> int:
    return MODES.index(mode) + 1


def strongest(modes) -> str:
    return max(modes, key=level)


def conflicts(a: str, b: str) -> bool:
    return b in CONFLICTS[a]


def blocks_reads(mode: str) -> bool:
    """Does it make plain SELECTs wait?"""
    return conflicts(mode, "AccessShareLock")


def blocks_writes(mode: str) -> bool:
    """Does it make INSERT/UPDATE/DELETE wait?"""
    return conflicts(mode, "RowExclusiveLock")


def blocks_ddl(mode: str) -> bool:
    """Does it make VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY and other DDL wait?"""
    return conflicts(mode, "ShareUpdateExclusiveLock")


def describe_blocking(mode: str) -> str:
    if blocks_reads(mode):
        return "blocks reads and writes"
    if blocks_writes(mode):
        return "blocks writes"
    if blocks_ddl(mode):
        return "blocks other DDL and VACUUM, not reads or writes"
    if conflicts(mode, "ShareLock"):
        return "blocks CREATE INDEX, new foreign keys and triggers, and ACCESS EXCLUSIVE DDL; not reads or writes"
    if conflicts(mode, "ExclusiveLock"):
        return "blocks EXCLUSIVE and ACCESS EXCLUSIVE locks (REFRESH ... CONCURRENTLY, most ALTER TABLE); not reads or writes"
    return "blocks only ACCESS EXCLUSIVE DDL"
