"""Data-dependent failure prediction: `migrasafe check --data-from DSN`.

The static rules say what a migration locks; this says whether it will fail on the rows that
are really there. Read-only against a production-like database, each statement that PostgreSQL
checks against existing rows is probed with a query over those rows, as the run's earlier
statements leave them (rows.py): SET NOT NULL and NOT NULL constraints over NULLs (MS060), CHECK
constraints the rows violate (MS061), foreign keys with orphans (MS062), unique indexes and
constraints over duplicates (MS063), primary keys over NULLs (MS064), type changes whose cast
fails on some value (MS065), enums recreated without a value rows still use (MS066), and
ADD COLUMN ... NOT NULL without a default on a table with rows (MS067). A probe that times out
is MS068, one that could not run or read only a sample MS069 (info): never a silent pass.

Nothing is written: see session.py.
"""
from __future__ import annotations

from .session import DataCheckError
from .walk import Options, check_data

__all__ = ["DataCheckError", "Options", "check_data"]
