"""Fix text that depends on how the migration's tool runs transactions: each source format says."""
from __future__ import annotations

from .base import Context
from .indexes import layout_name, outside_advice

_SEPARATE = "in a separate transaction (its own migration)"
# When the configuration makes a tool commit once per run, its own migrations no longer separate.
_RUN_SCOPED = ("in a later deploy (a separate migrator run): every pending migration of one run shares "
               "one transaction")


def _source(ctx: Context):
    from ..sources.registry import FORMATS

    return FORMATS.get(layout_name(ctx))


def later_transaction(ctx: Context) -> str:
    """Where the second step of a two-step fix runs so that the first one has committed."""
    fmt = ctx.migration.format
    if fmt == "alembic":
        return ("in a separate transaction (its own revision; with the whole upgrade in one transaction, "
                "context.configure(transaction_per_migration=True) in env.py)"
                if ctx.migration.meta.get("shared_transaction") else _SEPARATE.replace("migration", "revision"))
    if fmt == "django":
        return _SEPARATE
    source = _source(ctx)
    if source is None:
        return _SEPARATE
    if source.separate_transaction != _SEPARATE:
        return source.separate_transaction
    return _RUN_SCOPED if run_wide_transaction(ctx) else _SEPARATE


def run_wide_transaction(ctx: Context) -> bool:
    """Whether the migration runs in the one transaction its tool keeps open for every pending
    migration of a run (Drizzle, node-pg-migrate, or a configured run scope)."""
    if ctx.migration.meta.get("shared_transaction"):
        return True
    source = _source(ctx)
    if source is None:
        return False
    from ..sources.plan import run_scope

    return run_scope(source, ctx.config) == "run"


def self_committing_advice(ctx: Context) -> str:
    """How a statement that COMMITs inside itself runs in this layout."""
    source = _source(ctx)
    if source is not None and source.self_committing:
        return source.self_committing
    return outside_advice(layout_name(ctx))
