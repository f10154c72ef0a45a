"""Schema state, built by replaying earlier migrations (or a pg_dump --schema-only file).

`apply` (replaying one statement) lives in catalog/apply.py and needs pglast: import it from there,
so that a run that loads every result from the cache never loads the parser.
"""
from .state import Catalog, Column, Constraint, EnumType, Index, Relation, TypeSpec

__all__ = ["Catalog", "Column", "Constraint", "EnumType", "Index", "Relation", "TypeSpec"]
