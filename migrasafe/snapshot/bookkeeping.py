"""The tables and schemas migration tools keep their own records in.

They exist in a database the tool migrated and not in one the migrations were replayed on, and
they are the tool's, not the application's schema: a snapshot leaves them out by default (with
their columns, indexes, constraints, triggers, grants and the sequences they own).
"""
from __future__ import annotations

# Table name -> the tool that keeps it. Matched in any schema, by exact (unquoted) name.
BOOKKEEPING_TABLES: dict[str, str] = {
    "schema_migrations": "golang-migrate, dbmate, Rails",
    "schema_migration": "popx",
    "ar_internal_metadata": "Rails",
    "flyway_schema_history": "Flyway",
    "alembic_version": "Alembic",
    "goose_db_version": "goose",
    "__diesel_schema_migrations": "diesel",
    "django_migrations": "Django",
    "_prisma_migrations": "Prisma",
    "__drizzle_migrations": "Drizzle",
    "gorp_migrations": "sql-migrate",
    "atlas_schema_revisions": "Atlas",
    "databasechangelog": "Liquibase",
    "databasechangeloglock": "Liquibase",
    "seaql_migrations": "SeaORM",
    "pgmigrations": "node-pg-migrate",
    "knex_migrations": "knex",
    "knex_migrations_lock": "knex",
    "SequelizeMeta": "Sequelize",
    "mikro_orm_migrations": "MikroORM",
    "refinery_schema_history": "refinery",
    "_sqlx_migrations": "sqlx",
}

# Schemas that belong to a migration tool as a whole.
BOOKKEEPING_SCHEMAS: dict[str, str] = {
    "sqitch": "sqitch",
    "graphile_migrate": "graphile-migrate",
    "atlas_schema_revisions": "Atlas",
    "drizzle": "Drizzle",
    "supabase_migrations": "Supabase",
}


def is_bookkeeping(schema: str, relation: str | None) -> bool:
    return schema in BOOKKEEPING_SCHEMAS or (relation is not None and relation in BOOKKEEPING_TABLES)
