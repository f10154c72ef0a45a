"""The lock-impact model: which locks a statement takes, on what, and what it rewrites."""
from .impact import impact
from .modes import MODES, blocks_reads, blocks_writes, describe_blocking, level, strongest

__all__ = ["MODES", "blocks_reads", "blocks_writes", "describe_blocking", "impact", "level", "strongest"]
