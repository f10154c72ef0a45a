"""Alembic revisions as a migration source.

Each revision's `upgrade()` is rendered the way `alembic upgrade --sql` renders it (Alembic's own
operations, PostgreSQL dialect) under a migration context of migrasafe's own: the project's
env.py is never run and no database is needed. Every rendered statement keeps the line of the
`op.*` call that produced it.

    layout.py    where a project keeps its revisions (alembic.ini, Flask-Migrate, env.py + versions/)
    settings.py  [tool.migrasafe.alembic] and the command line's --alembic-dir, --from, --to
    envpy.py     what env.py configures, read without running it
    graph.py     the revision graph, with Alembic's own ScriptDirectory, in upgrade order
    ids.py       a revision's ids as its source assigns them, read with ast (no Alembic)
    standins.py  stand-ins for modules a revision imports that are not installed
    bind.py      the connection op.get_bind() returns: records SQL, has no rows to give
    render.py    one revision's upgrade() → SQL chunks with the position of their op call
    worker.py    graph and rendering, run in a child process (migrasafe.sandbox): plain data out
    read.py      a project → Migration objects, from what the child sent

The project's code runs only in that child, confined (no network, files read-only, time limits).
Only layout.py, settings.py, ids.py and read.py are imported in migrasafe's own process: SQLAlchemy and
Alembic load in the child.
"""
