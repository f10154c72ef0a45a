"""An enum column moved to a new enum type that keeps every label, in the same order: the swap
teams write to add labels (rename the type away, create it again with more labels, ALTER COLUMN
... TYPE new USING col::text::new). The change rewrites the table, yet nothing the running
application writes or sorts by changes meaning, and ALTER TYPE ... ADD VALUE would have added the
labels without touching the table."""
from __future__ import annotations

from ..catalog.state import Catalog, TypeSpec
from ..plan.sql import literal, qualified


def kept_labels(catalog: Catalog, old: TypeSpec, new: TypeSpec) -> list[str] | None:
    """The new type's labels when they hold the old type's ones in the same order, else None."""
    before, after = catalog.types.get(old.name), catalog.types.get(new.name)
    if old.name == new.name or before is None or after is None or old.array != new.array or not before.values:
        return None
    positions = [after.values.index(v) if v in after.values else -1 for v in before.values]
    if -1 in positions or positions != sorted(positions):
        return None  # a label lost, or the order (what ORDER BY and < see) changed
    return list(after.values)


def add_value_fix(old: TypeSpec, old_labels: list[str], new_labels: list[str]) -> str:
    """ALTER TYPE ... ADD VALUE for each missing label, placed where the new type has it."""
    steps, first_kept = [], new_labels.index(old_labels[0])
    for i in range(first_kept - 1, -1, -1):  # labels before the first old one, each BEFORE the next
        steps.append(f"ALTER TYPE {qualified(old.name)} ADD VALUE IF NOT EXISTS {literal(new_labels[i])} "
                     f"BEFORE {literal(new_labels[i + 1])};")
    for i in range(first_kept + 1, len(new_labels)):
        if new_labels[i] not in old_labels:
            steps.append(f"ALTER TYPE {qualified(old.name)} ADD VALUE IF NOT EXISTS {literal(new_labels[i])} "
                         f"AFTER {literal(new_labels[i - 1])};")
    return ("-- the new type keeps every label of the column's type, in order: instead of the swap (RENAME,\n"
            "-- CREATE TYPE, this ALTER COLUMN, DROP TYPE), add the labels to the column's type in place, which\n"
            "-- rewrites nothing and locks no table (in a transaction on PostgreSQL 12+; usable after the commit);\n"
            f"-- ({old.name} is what this migration's RENAME calls the type: write the name it had before)\n"
            + "\n".join(steps))
