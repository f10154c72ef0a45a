"""Prisma Migrate: a new folder <timestamp>_<name>/ holding migration.sql."""
from __future__ import annotations

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}/migration.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    # Prisma has no down file of its own (`prisma migrate diff` writes one on request): the revert
    # statements stay in a comment, so nothing Prisma does not run sits beside migration.sql.
    statements = [line for line in new.down.splitlines() if line.strip() and not line.lstrip().startswith("--")]
    revert = "".join(f"-- {line}\n" for line in statements)
    return [(new.rel, new.header + new.up + (f"\n-- To revert:\n{revert}" if revert else ""))]


WRITER = Writer(
    format="prisma", main_file=main_file, files=files,
    rerun="Prisma records the failure: `prisma migrate resolve --rolled-back <folder>`, then `prisma migrate deploy`",
    first_timestamp="%Y%m%d%H%M%S",
)
