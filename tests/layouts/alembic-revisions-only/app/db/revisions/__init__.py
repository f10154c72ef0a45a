"""Revisions shipped with the package; the application builds the Alembic Config itself."""
