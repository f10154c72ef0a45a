"""Where the embedded server keeps its files: in memory (/dev/shm) when the machine has room for
a replay of this size, else in the temporary folder.

A replay's server is deleted when it ends and runs without fsync, so its disk only ever adds
time: creating a file (the template cluster's thousand, a database's three hundred, one per
index or rewritten table) costs up to a millisecond on a busy virtual disk, next to
microseconds in memory or on a production server's disk. The files of a replay of up to
MEMORY_ROWS rows per table (tables, indexes, and the WAL, which stays under max_wal_size) take
well under ROOM_BYTES; with less room than that free, in /dev/shm or in the machine's memory, the
temporary folder is used. So it is when TMPDIR is set, or MIGRASAFE_REPLAY_MEMORY=off.
"""
from __future__ import annotations

import os
from pathlib import Path

MEMORY_DIR = Path("/dev/shm")
MEMORY_ROWS = 200_000
ROOM_BYTES = 4 << 30


def scratch_dir(largest_rows: int) -> str | None:
    """The folder to make the server's temporary folder in; None for the usual one."""
    if os.environ.get("MIGRASAFE_REPLAY_MEMORY", "").lower() in ("off", "0", "no", "false"):
        return None
    if os.environ.get("TMPDIR"):
        return None  # a temporary folder chosen on purpose
    if largest_rows > MEMORY_ROWS or room(MEMORY_DIR) < ROOM_BYTES:
        return None
    return str(MEMORY_DIR)


def room(path: Path) -> int:
    """Bytes a replay could put in `path`: none unless it is a memory file system we may write
    to; else the lesser of its free space and the memory the machine has available."""
    if not is_tmpfs(path) or not os.access(path, os.W_OK):
        return 0
    return min(free_space(path), available_memory())


def free_space(path: Path) -> int:
    try:
        stats = os.statvfs(path)
    except OSError:
        return 0
    return stats.f_bavail * stats.f_frsize


def is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(fields[1] == str(path) and fields[2] == "tmpfs" for fields in (m.split() for m in mounts)
               if len(fields) > 2)


def available_memory() -> int:
    """MemAvailable of /proc/meminfo, in bytes (0 when it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
