"""Detection: one function per rule (grouped by topic), documented in the top-level rules/*.yaml."""
from . import batching, compat, indexes, locking, rewrites, validation  # noqa: F401  (registers detectors)
from .base import DETECTORS, Context, Hit

__all__ = ["DETECTORS", "Context", "Hit"]
