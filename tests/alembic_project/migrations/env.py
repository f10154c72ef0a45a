from alembic import context
from sqlalchemy import create_engine, text

# Running this file needs a database: migrasafe must render the revisions without it.
raise RuntimeError("env.py ran")


def run_migrations_online():
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        connection.execute(text("SET lock_timeout = '3s'"))
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
