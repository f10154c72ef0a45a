"""Revisions are kept per database: versions/<dialect>/ (there is no alembic.ini; the application
builds the Alembic configuration and this file picks the revision folder)."""
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
here = os.path.dirname(__file__)
url = os.environ.get("DATABASE_URL", "postgresql://localhost/app")
dialect = url.split(":", 1)[0].split("+", 1)[0]
config.set_main_option("sqlalchemy.url", url)
config.set_main_option("version_locations", os.path.join(here, "versions", dialect))


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
