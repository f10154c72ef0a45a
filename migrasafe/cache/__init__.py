"""A content-addressed cache of `check` results, so a run over a history that did not change loads
its results instead of parsing and analysing it again (like ruff's cache).

Each migration's result is stored under a key that chains everything deciding it: the key of the
migration before it in its history, its file's bytes and how it was read, the configuration, the
PostgreSQL version, and migrasafe's own code. The catalog (the schema model) is stored after the
last migration of each run and every `SNAPSHOT_EVERY` migrations, so a run that adds one migration
analyses that one only, starting from the catalog of the one before it. Entries are plain JSON,
written atomically; a corrupt or foreign entry is ignored, never trusted.

Above that, a whole run whose inputs did not change at all is replayed from its stored output
without loading the analysis (whole_run.py).
"""
from __future__ import annotations

__all__ = ["CachedRun", "open_cache"]


def __getattr__(name: str):
    # Lazily: a warm run replayed whole (whole_run.py) must not pay for the analysis modules.
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(name)
