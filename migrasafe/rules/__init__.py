"""Detection rules, one function per rule (docs in the top-level rules/ folder).

The rule modules load on first use of DETECTORS, Context or Hit: a run that loads every result from
the cache, or only reads the rules' documentation (`rules.registry`), does not pay for them.
"""
from __future__ import annotations

__all__ = ["DETECTORS", "Context", "Hit"]



def __getattr__(name: str):
    if name in __all__:
        import pkgutil
        from importlib import import_module

        from . import base

        # Importing a rule module registers its detectors; every module of the package is loaded,
        # so a new rule file needs no list to be kept in step.
        for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
            import_module(f"{__name__}.{module}")
        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
