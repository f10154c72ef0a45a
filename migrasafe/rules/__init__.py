"""Detection rules, one function per rule (docs in the top-level rules/ folder).

The rule modules load on first use of DETECTORS, Context or Hit: a run that loads every result from
the cache, or only reads the rules' documentation (`rules.registry`), does not pay for them.
"""
from __future__ import annotations

__all__ = ["DETECTORS", "Context", "Hit"]

_RULE_MODULES = ("batching", "compat", "indexes", "locking", "rewrites", "validation")


def __getattr__(name: str):
    if name in __all__:
        from importlib import import_module

        from . import base

        for module in _RULE_MODULES:  # importing a rule module registers its detectors
            import_module(f"{__name__}.{module}")
        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
