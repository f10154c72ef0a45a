"""Throwaway PostgreSQL servers of several major versions, to replay migrations against."""
