"""ALTER TABLE ... ALTER COLUMN ... TYPE: whether the table is rewritten, which indexes of the
column are built again, and what happens to the foreign keys through the column
(alter_table.py's effect of the subcommand)."""
from __future__ import annotations

from pglast import ast

from ..catalog.names import collation_of, strval, type_spec
from ..catalog.state import Catalog, Relation
from . import foreign_keys
from .types import rewrites as type_change_rewrites


def alter_type(effect, cmd, rel: Relation | None, catalog: Catalog, pg_version: int, timezone_utc: bool) -> None:
    coldef: ast.ColumnDef = cmd.def_
    new = type_spec(coldef.typeName, resolver(catalog))
    col = rel.columns.get(cmd.name) if rel else None
    old_type = col.type if col is not None else None
    # A domain is stored as its base type; a constrained one checks every value it is given.
    if old_type is not None and old_type.name in catalog.domains:
        old_type = catalog.domains[old_type.name].base
    target = catalog.domains.get(new.name)
    if target is not None:
        new = target.base
    using = coldef.raw_default
    rewrites = (target is not None and target.constrained) or col is None
    if col is None:
        effect.notes["unknown_old_type"] = True  # assume the worst
    elif using is not None and not _trivial_using(using, cmd.name):
        rewrites = True
    elif type_change_rewrites(old_type, new, pg_version=pg_version, timezone_utc=timezone_utc):
        rewrites = True
    effect.rewrite = effect.rewrite or rewrites
    if rel is None:
        return
    compared_anew = old_type is None or _compared_as(old_type) != _compared_as(new)
    recollated = col is not None and collation_of(coldef) != col.collation
    if not rewrites and (compared_anew or recollated):
        # The rows stay, but an index of the column sorts by the new type's operators or the new
        # collation: PostgreSQL builds it again, reading the whole table (CheckIndexCompatible).
        rebuilt = [name for name in rel.indexes if cmd.name in getattr(catalog.indexes.get(name), "columns", ())]
        if rebuilt:
            effect.scan = True
            effect.notes.setdefault("rebuilt_indexes", {})[cmd.name] = {
                "indexes": rebuilt, "for": "type" if compared_anew else "collation"}
    foreign_keys.keys_on_column(effect, rel, cmd.name, catalog, pg_version, readd=True,
                                recheck=rewrites or compared_anew)


# Types compared with another's operators: a key or an index of one kept for the other compares
# and sorts the same way.
_COMPARED_AS = {"varchar": "text"}


def _compared_as(spec) -> tuple[str, bool]:
    return _COMPARED_AS.get(spec.name, spec.name), spec.array


def resolver(catalog: Catalog):
    def resolve(name):
        for s in catalog.search_path:
            if f"{s}.{name}" in catalog.types or f"{s}.{name}" in catalog.domains:
                return f"{s}.{name}"
        return name
    return resolve


def _trivial_using(expr, column: str) -> bool:
    """`USING col` or `USING col::newtype`: the same conversion as without USING."""
    if isinstance(expr, ast.TypeCast):
        expr = expr.arg
    return isinstance(expr, ast.ColumnRef) and len(expr.fields) == 1 and strval(expr.fields[0]) == column
