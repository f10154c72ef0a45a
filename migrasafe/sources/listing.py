"""Finding files in a migration folder. Folders are resolved once; files keep their own names."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

# Folders no migration tool reads migrations from, skipped when walking down.
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "venv", "target", "vendor"}


def files_in(root: Path, suffix: str = ".sql") -> list[Path]:
    """The folder's own regular files (not its subfolders'), sorted by name. Links to nothing, link
    loops, pipes and devices are left to the unread-file sweep, which reports them.

    Within one reading of the paths (`sniffing_once`) a folder is listed once for all the layouts'
    detectors and readers that ask."""
    memory = _listed
    if memory is not None:
        known = memory.get((root, suffix))
        if known is None:
            known = memory[(root, suffix)] = _files_in(root, suffix)
        return list(known)
    return _files_in(root, suffix)


def _files_in(root: Path, suffix: str) -> list[Path]:
    try:
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(suffix) and _is_file(e))
    except OSError:
        return []
    return [root / name for name in names]


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a link loop
        return False


def walk_files(root: Path, suffix: str = ".sql") -> list[Path]:
    """Files below `root` at any depth, for tools that scan recursively (Flyway, popx)."""
    found = []
    for folder, subfolders, names in os.walk(root, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        found.extend(Path(folder) / n for n in sorted(names) if n.endswith(suffix))
    return found


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def subfolders(root: Path) -> list[Path]:
    try:
        with os.scandir(root) as entries:
            names = sorted(
                e.name for e in entries
                if not e.name.startswith(".") and e.name not in SKIPPED_FOLDERS and _is_dir(e)
            )
    except OSError:
        return []
    return [root / name for name in names]


# Reading a whole file is not needed to spot a template or an annotation near the top.
SNIFF_BYTES = 64 * 1024


# Within one reading of the paths (`sniffing_once`), each file's start is read once for all the
# layouts' detectors that look at it, up to this many bytes in all.
_SNIFF_MEMORY = 32 * 1024 * 1024
_sniffed: dict | None = None
_sniffed_bytes = 0
_listed: dict | None = None  # (folder, suffix) -> files_in's answer, within sniffing_once


@contextmanager
def sniffing_once():
    """Detectors called within share what `sniff` read and `files_in` listed; the files are read
    afresh after it, so that a later run sees a file changed in between."""
    global _sniffed, _sniffed_bytes, _listed
    if _sniffed is not None:  # an outer reading already shares
        yield
        return
    _sniffed, _sniffed_bytes, _listed = {}, 0, {}
    try:
        yield
    finally:
        _sniffed, _sniffed_bytes, _listed = None, 0, None


def sniff(path: Path, size: int = SNIFF_BYTES) -> str:
    """The start of a file as text, for format detection ("" when it cannot be read). Only a regular
    file is opened: a pipe would block the run until something writes to it, and a device never
    ends (reading.read_text reports them when the file is read as a migration)."""
    global _sniffed_bytes
    memory = _sniffed
    if memory is not None:
        known = memory.get(path)
        # (the bytes read, how many were asked for): a shorter read than asked is the whole file.
        if known is not None and (len(known[0]) >= size or len(known[0]) < known[1]):
            return known[0][:size].decode("utf-8", errors="replace")
    # Shared, a read takes as much as any detector asks for, so that one read serves them all.
    asked = size if memory is None else max(size, SNIFF_BYTES)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
        with open(path, "rb") as handle:
            head = handle.read(asked)
    except OSError:
        return ""
    if memory is not None and _sniffed_bytes + len(head) <= _SNIFF_MEMORY:
        memory[path] = (head, asked)
        _sniffed_bytes += len(head)
    return head[:size].decode("utf-8", errors="replace")


def sniffed_whole(path: Path) -> bytes | None:
    """The whole file, when `sniff` read all of it within this reading of the paths."""
    memory = _sniffed
    known = memory.get(path) if memory is not None else None
    if known is not None and len(known[0]) < known[1]:
        return known[0]
    return None


def relative(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return file.name
