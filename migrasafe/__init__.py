"""migrasafe: a safety gate for PostgreSQL schema migrations."""

__version__ = "0.1.0"
