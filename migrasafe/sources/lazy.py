"""Migrations read later, or never: with the cache on, a migration is first only its identity and
a key of what it was read from; it is parsed only when its result is not in the cache."""
from __future__ import annotations

import json
import stat
from typing import Callable

from ..model import Migration
from .entries import Entry, History


def history_digest(history: History) -> str:
    """The files a tool reads besides the migrations (plans, journals, configurations): a change
    of one can change how every migration of the history is read."""
    import hashlib  # only with the cache: it is slow to import

    digest = hashlib.sha256()
    for path in sorted(history.companions):
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(str(path).encode() + b"\0unreadable")
    return digest.hexdigest()


def placeholder(entry: Entry, fmt_name: str, display: str, history_key: str, context: bool,
                companions: str, build: Callable[[], Migration]) -> Migration | None:
    """None when the file cannot be read as it is: it is then read at once, and reported."""
    try:
        if not stat.S_ISREG(entry.file.stat().st_mode):
            return None
        raw = entry.file.read_bytes()
    except OSError:
        return None
    if entry.problems:
        return None
    described = json.dumps([fmt_name, display, history_key, entry.rel, entry.version, entry.description,
                            entry.kind, entry.options, companions], sort_keys=True, default=str)
    import hashlib

    key = hashlib.sha256(described.encode() + b"\0" + raw).hexdigest()
    return Migration(path=display, format=fmt_name, version=entry.version, description=entry.description,
                     kind=entry.kind, meta={"file": str(entry.file), "history": history_key, "context": context,
                                            "source_key": key, "build": build})


def realize(migration: Migration) -> Migration:
    """The migration read and parsed (itself when it already is)."""
    build = migration.meta.get("build")
    return build() if build is not None else migration
