"""Schema state, built by replaying earlier migrations (or a pg_dump --schema-only file)."""
from .apply import apply
from .state import Catalog, Column, Constraint, EnumType, Index, Relation, TypeSpec

__all__ = ["Catalog", "Column", "Constraint", "EnumType", "Index", "Relation", "TypeSpec", "apply"]
