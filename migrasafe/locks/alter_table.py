"""ALTER TABLE: the lock each subcommand needs, and which ones rewrite or scan the table.

The lock table mirrors PostgreSQL's AlterTableGetLockLevel(): a statement takes the strongest
mode any of its subcommands needs, never less than SHARE UPDATE EXCLUSIVE.
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT, ConstrType as CT

from ..catalog.names import SERIALS, is_volatile, strval, type_spec
from ..catalog.state import Catalog, Relation
from . import foreign_keys, retype
from .modes import level
from .versions import has

ACCESS_EXCLUSIVE = "AccessExclusiveLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"

# Subcommands weaker than ACCESS EXCLUSIVE; every other subcommand takes ACCESS EXCLUSIVE.
SUBCOMMAND_LOCK = {
    AT.AT_SetStatistics: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ClusterOn: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DropCluster: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetOptions: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetOptions: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ValidateConstraint: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_AttachPartition: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DetachPartitionFinalize: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_EnableTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableAlwaysTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableReplicaTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigAll: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigUser: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigAll: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigUser: SHARE_ROW_EXCLUSIVE,
}

# Subcommands PostgreSQL repeats on every partition and inheritance child unless ONLY is given
# (ATPrepCmd's recursion), taking the statement's lock on each; the others change the named table
# only, a partitioned table's default for future partitions included.
RECURSING = {
    AT.AT_AddColumn, AT.AT_ColumnDefault, AT.AT_SetNotNull, AT.AT_DropNotNull, AT.AT_SetExpression,
    AT.AT_DropExpression, AT.AT_SetStatistics, AT.AT_SetStorage, AT.AT_DropColumn, AT.AT_AddConstraint,
    AT.AT_ValidateConstraint, AT.AT_DropConstraint, AT.AT_AlterConstraint, AT.AT_AlterColumnType, AT.AT_AddIdentity, AT.AT_SetIdentity,
    AT.AT_DropIdentity,
}
IDENTITY_SUBCOMMANDS = {AT.AT_AddIdentity, AT.AT_SetIdentity, AT.AT_DropIdentity}

# Storage parameters (ALTER TABLE SET (...)) that need ACCESS EXCLUSIVE; the rest are
# SHARE UPDATE EXCLUSIVE (fillfactor, autovacuum_*, toast.*, parallel_workers, ...).
EXCLUSIVE_RELOPTIONS = {"user_catalog_table", "check_option", "security_barrier", "security_invoker"}


class Effect:
    """What one subcommand does; collected over all subcommands of a statement."""

    def __init__(self):
        self.mode = SHARE_UPDATE_EXCLUSIVE
        self.rewrite = False
        self.scan = False
        self.other_locks: list[tuple[str, str]] = []  # (relation, mode) on other tables
        self.other_scans: list[str] = []  # other tables read in full (a foreign key re-checked)
        self.notes: dict = {}
        self.transactional = True
        self.recurse = False  # reaches the partitions and inheritance children

    def need(self, mode: str) -> None:
        if level(mode) > level(self.mode):
            self.mode = mode


def subcommand_mode(cmd: ast.AlterTableCmd) -> str:
    if cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        names = {d.defname for d in cmd.def_ or ()}
        return ACCESS_EXCLUSIVE if names & EXCLUSIVE_RELOPTIONS else SHARE_UPDATE_EXCLUSIVE
    if cmd.subtype == AT.AT_DetachPartition:
        return SHARE_UPDATE_EXCLUSIVE if cmd.def_.concurrent else ACCESS_EXCLUSIVE
    if cmd.subtype in (AT.AT_AddConstraint, AT.AT_ReAddConstraint) and isinstance(cmd.def_, ast.Constraint):
        return SHARE_ROW_EXCLUSIVE if cmd.def_.contype == CT.CONSTR_FOREIGN else ACCESS_EXCLUSIVE
    return SUBCOMMAND_LOCK.get(cmd.subtype, ACCESS_EXCLUSIVE)


def analyse(node: ast.AlterTableStmt, rel_name: str, catalog: Catalog, *, pg_version: int,
            timezone_utc: bool) -> Effect:
    effect = Effect()
    rel = catalog.get(rel_name)
    for cmd in node.cmds or ():
        effect.need(subcommand_mode(cmd))
        effect.recurse = (effect.recurse or recurses(cmd, rel, pg_version)
                          or trigger_subcommand_recurses(cmd, rel, catalog, pg_version))
        _EFFECTS.get(cmd.subtype, _none)(effect, cmd, rel, catalog, pg_version, timezone_utc)
    return effect


def recurses(cmd: ast.AlterTableCmd, rel: Relation | None, pg_version: int) -> bool:
    if cmd.subtype not in RECURSING:
        return False
    col = rel.columns.get(cmd.name) if rel is not None and cmd.name else None
    if cmd.subtype == AT.AT_DropColumn and cmd.missing_ok and rel is not None and col is None:
        return False  # nothing to drop: nothing to recurse for
    if cmd.subtype == AT.AT_DropNotNull and col is not None and not col.not_null:
        return not has("drop_not_null_of_nullable_is_noop", pg_version)
    if cmd.subtype in IDENTITY_SUBCOMMANDS:
        return rel is not None and rel.kind == "partitioned" and has("identity_on_partitioned_tables", pg_version)
    if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        if cmd.def_.contype == CT.CONSTR_PRIMARY and rel is not None and any(
                k in rel.columns and not rel.columns[k].not_null for k in map(strval, cmd.def_.keys or ())):
            return True  # the key's columns are made NOT NULL everywhere
        if cmd.def_.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_EXCLUSION):
            return has("index_constraints_lock_children", pg_version)
        if cmd.def_.contype == CT.CONSTR_FOREIGN:
            partitioned = rel is not None and rel.kind == "partitioned"
            return partitioned or has("index_constraints_lock_children", pg_version)
    return True


def trigger_subcommand_recurses(cmd: ast.AlterTableCmd, rel: Relation | None, catalog: Catalog,
                                pg_version: int) -> bool:
    """ENABLE/DISABLE TRIGGER ALL reaches the partitions holding a foreign key's cloned triggers."""
    if cmd.subtype not in (AT.AT_EnableTrigAll, AT.AT_DisableTrigAll) or rel is None or rel.kind != "partitioned":
        return False
    has_keys = any(c.kind == "f" for c in rel.constraints.values()) or bool(rel.referencing(catalog))
    return has_keys and has("enable_trigger_all_recurses_for_foreign_keys", pg_version)


def _none(*_):
    return None


def _add_column(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    coldef: ast.ColumnDef = cmd.def_
    spec = type_spec(coldef.typeName)
    domain = catalog.domains.get(type_spec(coldef.typeName, retype.resolver(catalog)).name)
    if domain is not None and domain.constrained:
        effect.rewrite = True  # every row's value (NULL or the default) is checked against the domain
        effect.notes["constrained_domain"] = True
    if spec.name in SERIALS:
        effect.rewrite = True
        effect.notes["adds_serial"] = True
    not_null = bool(coldef.is_not_null)
    has_default = False
    # Per column, not per statement: one ALTER TABLE often adds several columns (Prisma's shape),
    # and each rule names the column it is about.
    fills = spec.name in SERIALS  # this column's own values, whatever the statement's others do
    for con in coldef.constraints or ():
        ct = con.contype
        if ct == CT.CONSTR_DEFAULT:
            has_default = True
            if is_volatile(con.raw_expr, catalog.functions):
                effect.rewrite = True
                effect.notes["volatile_default"] = True
                effect.notes.setdefault("volatile_default_columns", []).append(coldef.colname)
        elif ct == CT.CONSTR_NOTNULL:
            not_null = True
        elif ct == CT.CONSTR_IDENTITY:
            effect.rewrite = fills = True
            effect.notes["adds_identity"] = True
            if rel is not None and rel.kind == "partitioned" and not has("identity_on_partitioned_tables", pg_version):
                effect.notes["unsupported"] = "identity columns on a partitioned table need PostgreSQL 17 or later"
        elif ct == CT.CONSTR_GENERATED:
            virtual = con.generated_kind == "v" and has("virtual_generated_columns", pg_version)
            fills = True
            if not virtual:
                effect.rewrite = True
                effect.notes["adds_stored_generated"] = True
        elif ct in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE):
            effect.scan = True
            effect.notes["builds_index"] = True
        elif ct == CT.CONSTR_CHECK:
            effect.scan = True
        elif ct == CT.CONSTR_FOREIGN and con.pktable is not None:
            target = catalog.qualify(con.pktable.schemaname, con.pktable.relname)
            effect.other_locks.extend((r, SHARE_ROW_EXCLUSIVE) for r in catalog.family(target))
            if foreign_keys.validates_column_key(coldef):
                effect.scan = True
    if not_null and not has_default and not fills and not effect.notes.get("constrained_domain"):
        effect.scan = True  # proves the table is empty; fails otherwise
        effect.notes["not_null_without_default"] = True
        effect.notes.setdefault("not_null_without_default_columns", []).append(coldef.colname)


def _set_not_null(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    col = rel.columns.get(cmd.name) if rel else None
    if col is not None and col.not_null:
        return
    if rel is not None and rel.not_null_proven(cmd.name) and has("set_not_null_uses_check", pg_version):
        effect.notes["not_null_proven"] = True
        return
    effect.scan = True


def _add_constraint(effect: Effect, cmd, rel: Relation | None, catalog: Catalog, pg_version, _tz):
    con: ast.Constraint = cmd.def_
    ct = con.contype
    if ct == CT.CONSTR_FOREIGN and con.pktable is not None:
        target = catalog.qualify(con.pktable.schemaname, con.pktable.relname)
        # The new key's triggers go on the referenced table, on each partition of a partitioned one.
        effect.other_locks.extend((r, SHARE_ROW_EXCLUSIVE) for r in catalog.family(target))
        if not con.skip_validation:
            effect.scan = True
        elif rel is not None and rel.kind == "partitioned" \
                and not has("not_valid_foreign_keys_on_partitioned_tables", pg_version):
            effect.notes["unsupported"] = "a NOT VALID foreign key on a partitioned table needs PostgreSQL 18 or later"
    elif ct in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_EXCLUSION):
        if ct == CT.CONSTR_EXCLUSION and rel is not None and rel.kind == "partitioned" \
                and not has("exclusion_constraints_on_partitioned_tables", pg_version):
            effect.notes["unsupported"] = "an EXCLUDE constraint on a partitioned table needs PostgreSQL 17 or later"
        if con.indexname is None:
            effect.scan = True
            effect.notes["builds_index"] = True
        if rel is not None and rel.kind == "partitioned" and not has("index_constraints_lock_children", pg_version):
            # Each partition's index is built the way CREATE INDEX builds it.
            effect.other_locks.extend((p, "ShareLock") for p in catalog.family(rel.name)[1:])
        if ct == CT.CONSTR_PRIMARY and rel is not None:
            keys = [strval(k) for k in con.keys or ()]
            if any(k in rel.columns and not rel.columns[k].not_null for k in keys):
                effect.scan = True  # the primary key sets NOT NULL on its columns
    elif ct in (CT.CONSTR_CHECK, CT.CONSTR_NOTNULL):
        if not con.skip_validation:
            effect.scan = True


def _validate(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    effect.scan = True
    con = rel.constraints.get(cmd.name) if rel else None
    if con is not None and con.kind == "f" and con.references:
        effect.other_locks.append((con.references, "RowShareLock"))


def _drop_constraint(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    con = rel.constraints.get(cmd.name) if rel else None
    if con is not None and con.kind == "f" and con.references:
        # Dropping a foreign key drops its triggers on the referenced table and its partitions too.
        effect.other_locks.extend((r, ACCESS_EXCLUSIVE) for r in catalog.family(con.references))


def _attach(effect: Effect, cmd, rel, catalog: Catalog, pg_version, _tz):
    child = catalog.qualify(cmd.def_.name.schemaname, cmd.def_.name.relname)
    if not has("attach_partition_share_update", pg_version):
        effect.need(ACCESS_EXCLUSIVE)
    effect.other_locks.append((child, ACCESS_EXCLUSIVE))
    # The default partition may no longer hold the new partition's rows: it is locked and scanned.
    effect.other_locks.extend((d, ACCESS_EXCLUSIVE) for d in default_partitions(rel, catalog))
    if rel is not None:
        # The new partition gets the partitioned table's foreign keys both ways, as a partition
        # made by CREATE TABLE ... PARTITION OF does: triggers on the referenced tables (each
        # partition of a partitioned one), checks from the tables referencing the partitioned one.
        for con in rel.constraints.values():
            if con.kind == "f" and con.references:
                effect.other_locks.extend((r, SHARE_ROW_EXCLUSIVE) for r in catalog.family(con.references))
        clone = SHARE_ROW_EXCLUSIVE if has("partition_fk_clone_share_row_exclusive", pg_version) else "AccessShareLock"
        for referencing, _ in rel.referencing(catalog):
            if referencing.name != rel.name:
                effect.other_locks.append((referencing.name, clone))
    effect.scan = True
    effect.notes["attach"] = child


def _detach(effect: Effect, cmd, rel, catalog: Catalog, pg_version, _tz):
    child = catalog.qualify(cmd.def_.name.schemaname, cmd.def_.name.relname)
    concurrent = bool(cmd.def_.concurrent)
    exclusive = has("detach_locks_partition_exclusively", pg_version) or child in default_partitions(rel, catalog)
    effect.other_locks.append((child, ACCESS_EXCLUSIVE if exclusive else SHARE_UPDATE_EXCLUSIVE))
    effect.other_locks.extend((d, ACCESS_EXCLUSIVE) for d in default_partitions(rel, catalog, besides=child))
    if rel is not None:
        # The partition keeps the partitioned table's foreign keys as keys of its own, and
        # loses the keys pointing at the partitioned table.
        for con in rel.constraints.values():
            if con.kind == "f" and con.references:
                if has("partition_fk_clone_share_row_exclusive", pg_version):
                    refs = catalog.family(con.references)
                else:
                    refs = [] if has("detach_leaves_referenced_table", pg_version) else [con.references]
                effect.other_locks.extend((r, SHARE_ROW_EXCLUSIVE) for r in refs)
        for referencing, _ in rel.referencing(catalog):
            if referencing.name != rel.name:
                effect.other_locks.append((referencing.name, ACCESS_EXCLUSIVE))
    if concurrent:
        effect.transactional = False
        effect.notes["concurrently"] = True
        if not has("detach_partition_concurrently", pg_version):
            effect.notes["unsupported"] = "DETACH PARTITION ... CONCURRENTLY needs PostgreSQL 14 or later"


def default_partitions(rel: Relation | None, catalog: Catalog, besides: str | None = None) -> list[str]:
    """The default partition of a partitioned table, whose allowed rows change when another
    partition comes or goes."""
    out = []
    for name in (rel.partitions if rel is not None else ()):
        part = catalog.get(name)
        if part is not None and part.bound == ("default",) and name != besides:
            out.append(name)
    return out


def _rewrite(effect: Effect, *_):
    effect.rewrite = True


def _set_tablespace(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    if rel is None or rel.tablespace != cmd.name:
        effect.rewrite = True  # moving to the tablespace it is already in copies nothing


def _set_persistence(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    if rel is not None and rel.unlogged == (cmd.subtype == AT.AT_SetUnLogged):
        return  # already so: nothing to do
    effect.rewrite = True
    if rel is not None and has("unlogged_sequences", pg_version):
        for seq in rel.owned_sequences:
            effect.other_locks.append((seq, ACCESS_EXCLUSIVE))


def _drop_column(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    if rel is None:
        return
    col = rel.columns.get(cmd.name)
    if col is not None and cmd.behavior.name == "DROP_CASCADE":
        effect.other_locks.extend((view, ACCESS_EXCLUSIVE) for view in catalog.views_on_column(rel.name, cmd.name))
    if col is not None:
        for seq in _column_sequences(rel, cmd.name, catalog):
            effect.other_locks.append((seq, ACCESS_EXCLUSIVE))
    foreign_keys.keys_on_column(effect, rel, cmd.name, catalog, pg_version)


def _column_sequences(rel: Relation, column: str, catalog: Catalog) -> list[str]:
    """The sequences owned by one column (serial, identity, OWNED BY)."""
    return [seq for seq in rel.owned_sequences
            if (owned := catalog.get(seq)) is not None and owned.owned_by_column == column]


def _identity(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    """SET GENERATED / RESTART / SET INCREMENT alter the identity sequence; DROP IDENTITY drops it."""
    if rel is None:
        return
    mode = ACCESS_EXCLUSIVE if cmd.subtype == AT.AT_DropIdentity else SHARE_ROW_EXCLUSIVE
    for seq in _column_sequences(rel, cmd.name, catalog):
        effect.other_locks.append((seq, mode))


def _set_expression(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    col = rel.columns.get(cmd.name) if rel else None
    if col is None or col.generated != "v":
        effect.rewrite = True  # a stored generated column is computed again for every row


def _set_access_method(effect: Effect, cmd, rel: Relation | None, catalog, pg_version, _tz):
    if rel is not None and rel.kind == "partitioned" and not has("set_access_method_partitioned_tables", pg_version):
        effect.notes["unsupported"] = "SET ACCESS METHOD of a partitioned table needs PostgreSQL 17 or later"
    # heap is the only table access method PostgreSQL ships, and every table's default.
    if (cmd.name or "heap") != "heap" or not has("set_access_method_same_is_noop", pg_version):
        effect.rewrite = True


def _inherit(effect: Effect, cmd, rel: Relation | None, catalog: Catalog, pg_version, _tz):
    parent = catalog.qualify(cmd.def_.schemaname, cmd.def_.relname)
    if cmd.subtype == AT.AT_AddInherit:
        effect.other_locks.append((parent, SHARE_UPDATE_EXCLUSIVE))
        if rel is not None:  # the cycle check walks the table's own inheritors
            effect.other_locks.extend((child, "AccessShareLock") for child in catalog.inheritors(rel.name)[1:])
    else:
        effect.other_locks.append((parent, "AccessShareLock"))


_EFFECTS = {
    AT.AT_AddColumn: _add_column,
    AT.AT_AlterColumnType: retype.alter_type,
    AT.AT_SetNotNull: _set_not_null,
    AT.AT_AddConstraint: _add_constraint,
    AT.AT_ValidateConstraint: _validate,
    AT.AT_DropConstraint: _drop_constraint,
    AT.AT_AttachPartition: _attach,
    AT.AT_DetachPartition: _detach,
    AT.AT_DropColumn: _drop_column,
    AT.AT_SetTableSpace: _set_tablespace,
    AT.AT_SetLogged: _set_persistence,
    AT.AT_SetUnLogged: _set_persistence,
    AT.AT_SetAccessMethod: _set_access_method,
    AT.AT_SetExpression: _set_expression,
    AT.AT_AddIdentity: _identity,
    AT.AT_SetIdentity: _identity,
    AT.AT_DropIdentity: _identity,
    AT.AT_AddInherit: _inherit,
    AT.AT_DropInherit: _inherit,
}
