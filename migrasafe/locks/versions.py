"""Lock and rewrite behaviour that changed between PostgreSQL major versions.

Each entry is the first major version with the behaviour; the model asks `has(feature, version)`.
"""
from __future__ import annotations

FIRST_VERSION = {
    # REINDEX ... CONCURRENTLY exists.
    "reindex_concurrently": 12,
    # ALTER TYPE ... ADD VALUE may run inside a transaction block.
    "enum_add_value_in_transaction": 12,
    # SET NOT NULL skips its full scan when a validated CHECK (col IS NOT NULL) proves it.
    "set_not_null_uses_check": 12,
    # timestamp <-> timestamptz is metadata-only when the session TimeZone is UTC.
    "timestamptz_free_in_utc": 12,
    # ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE (not ACCESS EXCLUSIVE) on the parent.
    "attach_partition_share_update": 12,
    # ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY exists.
    "detach_partition_concurrently": 14,
    # GENERATED ALWAYS AS (expr) without STORED is a virtual column: nothing is written.
    "virtual_generated_columns": 18,
    # ADD CONSTRAINT ... NOT NULL ... NOT VALID exists.
    "not_null_not_valid": 18,
}


def has(feature: str, pg_version: int) -> bool:
    return pg_version >= FIRST_VERSION[feature]
