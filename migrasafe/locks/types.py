"""Which column type changes PostgreSQL does without rewriting the table."""
from __future__ import annotations

from ..catalog.state import TypeSpec
from .versions import has

# Casts PostgreSQL performs by relabelling (pg_cast.castmethod = 'b'): no value changes.
BINARY_COERCIBLE = {
    ("varchar", "text"), ("text", "varchar"), ("cidr", "inet"), ("bpchar", "text"),
    ("oid", "regclass"), ("regclass", "oid"), ("int4", "oid"),
    # The citext extension declares these casts WITHOUT FUNCTION.
    ("varchar", "citext"), ("text", "citext"), ("citext", "text"), ("citext", "varchar"),
}
BINARY_COERCIBLE_REVERSIBLE = {("varchar", "text"), ("text", "varchar")}

# Types whose typmod change is free when it only widens (their length-coercion functions
# have a planner support function that reduces to a relabel).
_WIDENING = {"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval"}


def rewrites(old: TypeSpec, new: TypeSpec, *, pg_version: int, timezone_utc: bool) -> bool:
    """Would ALTER COLUMN ... TYPE new rewrite a column of type old?"""
    if old.array != new.array:
        return True
    if old.name == new.name:
        return not _typmod_free(old, new)
    if (old.name, new.name) == ("bpchar", "text"):
        return True  # char(n) → text strips trailing blanks: every value changes
    if (old.name, new.name) in BINARY_COERCIBLE:
        # The target's own length limit (text → varchar(10)) still checks every value.
        return bool(new.mods)
    if {old.name, new.name} == {"timestamp", "timestamptz"}:
        if timezone_utc and has("timestamptz_free_in_utc", pg_version):
            return not _typmod_free(TypeSpec(new.name, old.mods), new)
        return True
    return True


def _typmod_free(old: TypeSpec, new: TypeSpec) -> bool:
    if old.mods == new.mods:
        return True
    if not new.mods:  # dropping the limit: varchar(10) → varchar, numeric(10,2) → numeric
        return old.name in _WIDENING or old.name == "numeric"
    if not old.mods:
        return False
    if old.name == "numeric":
        old_p, old_s = (list(old.mods) + [0])[:2]
        new_p, new_s = (list(new.mods) + [0])[:2]
        return _ints(old_p, old_s, new_p, new_s) and new_s == old_s and new_p >= old_p
    if old.name in _WIDENING:
        return _ints(old.mods[0], new.mods[0]) and new.mods[0] >= old.mods[0]
    return False


def _ints(*values) -> bool:
    return all(isinstance(v, int) for v in values)


def narrows(old: TypeSpec, new: TypeSpec) -> bool:
    """Could values the running application writes no longer fit (or change meaning)?"""
    if old.name == new.name and old.array == new.array:
        if old.mods == new.mods or not new.mods:
            return False
        if not old.mods:
            return True
        if old.name == "numeric" and _ints(*old.mods, *new.mods):
            old_p, old_s = (list(old.mods) + [0])[:2]
            new_p, new_s = (list(new.mods) + [0])[:2]
            # Fits when there are as many digits before the point and as many after it.
            return new_p - new_s < old_p - old_s or new_s < old_s
        return not _typmod_free(old, new)
    widening_pairs = {
        ("int2", "int4"), ("int2", "int8"), ("int4", "int8"), ("float4", "float8"),
        ("varchar", "text"), ("bpchar", "text"), ("bpchar", "varchar"), ("cidr", "inet"),
        ("int2", "numeric"), ("int4", "numeric"), ("int8", "numeric"), ("json", "jsonb"),
        ("timestamp", "timestamptz"), ("date", "timestamp"), ("date", "timestamptz"),
    }
    if old.name == "text" and new.name == "varchar" and not new.mods:
        return False  # unbounded varchar holds every text value
    if (old.name, new.name) in widening_pairs and old.array == new.array:
        if new.name == "varchar" and new.mods:
            return True
        return False
    return True
