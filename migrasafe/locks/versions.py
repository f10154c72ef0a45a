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
    # DETACH PARTITION takes ACCESS EXCLUSIVE on the partition (SHARE UPDATE EXCLUSIVE before);
    # the CONCURRENTLY form takes it too, in its second transaction.
    "detach_locks_partition_exclusively": 14,
    # Sequences can be unlogged: SET LOGGED/UNLOGGED also rewrites the table's owned sequences.
    "unlogged_sequences": 15,
    # GRANT and REVOKE on a table take ACCESS SHARE on it.
    "grant_locks_table": 18,
    # CREATE TABLE ... (LIKE t INCLUDING DEFAULTS) locks the sequences of copied nextval() defaults.
    "like_locks_default_sequences": 18,
    # ALTER TABLE ... DROP NOT NULL of a column that is not NOT NULL changes nothing, so it
    # never reaches the partitions or inheritance children (not-null constraints are catalogued).
    "drop_not_null_of_nullable_is_noop": 18,
    # Identity columns on partitioned tables: ADD/SET/DROP IDENTITY recurse to the partitions.
    "identity_on_partitioned_tables": 17,
    # SET ACCESS METHOD to the table's current access method does not rewrite it.
    "set_access_method_same_is_noop": 18,
}


def has(feature: str, pg_version: int) -> bool:
    return pg_version >= FIRST_VERSION[feature]
