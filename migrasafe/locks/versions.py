"""Lock and rewrite behaviour that changed between PostgreSQL major versions.

Each entry is the first major version with the behaviour; the model asks `has(feature, version)`.
Checked by tests/test_truth_matrix.py against 12.22, 13.23, 14.23, 15.18, 16.14, 17.10 and 18.6:
some behaviours (the foreign keys of partitioned tables) changed in minor releases too.
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
    "set_access_method_same_is_noop": 15,
    # A foreign key referencing a partitioned table has triggers on the partitioned table itself
    # (before: on its partitions only), so dropping the key locks it too.
    "fk_triggers_on_partitioned_referenced_table": 15,
    # Creating or detaching a partition re-creates the foreign keys pointing at the partitioned
    # table with SHARE ROW EXCLUSIVE on the referencing tables (ACCESS SHARE before), and
    # detaching locks every partition of a partitioned referenced table.
    "partition_fk_clone_share_row_exclusive": 15,
    # DETACH PARTITION leaves a referenced table alone (12 locks it SHARE ROW EXCLUSIVE; from 15
    # every partition of it is, as above).
    "detach_leaves_referenced_table": 13,
    # ADD CONSTRAINT PRIMARY KEY / UNIQUE / EXCLUDE / FOREIGN KEY reaches the inheritance children
    # in the statement's lock mode, and the partitions of a partitioned table too (an index-backed
    # constraint took SHARE on the partitions before, building their indexes).
    "index_constraints_lock_children": 18,
    # TRUNCATE of a partition no longer opens the partitioned table.
    "truncate_partition_skips_parent": 14,
    # ENABLE/DISABLE TRIGGER ALL of a partitioned table with foreign keys reaches the partitions,
    # where the keys' triggers are cloned.
    "enable_trigger_all_recurses_for_foreign_keys": 15,
    # REINDEX of a partitioned table or index rebuilds every partition's indexes, one
    # transaction each (so never inside a transaction block); before, REINDEX TABLE of a
    # partitioned table did nothing and REINDEX INDEX of a partitioned index was refused.
    "reindex_partitioned_tables": 14,
    # CLUSTER of a partitioned table clusters each partition, one transaction each.
    "cluster_partitioned_tables": 15,
    # EXCLUDE constraints on partitioned tables (the partition key among their columns, with =).
    "exclusion_constraints_on_partitioned_tables": 17,
    # ALTER TABLE ... SET ACCESS METHOD of a partitioned table (sets the partitions' default).
    "set_access_method_partitioned_tables": 17,
    # ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID on a partitioned table.
    "not_valid_foreign_keys_on_partitioned_tables": 18,
    # VACUUM and ANALYZE of an inheritance parent process its children as relations of their
    # own (before, ANALYZE only sampled them under ACCESS SHARE for the tree's statistics).
    "vacuum_processes_inheritance_children": 18,
    # DELETE from a partition named directly no longer opens its partitioned table (UPDATE still
    # does, for the partition constraint of the rows it writes).
    "delete_from_partition_skips_parent": 14,
}


def has(feature: str, pg_version: int) -> bool:
    return pg_version >= FIRST_VERSION[feature]
