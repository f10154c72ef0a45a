"""Django migrations as a migration source.

Every migration is applied with Django's own schema editor for PostgreSQL to a throwaway
PostgreSQL (the embedded server the replay uses), in the order of Django's migration graph, and
every statement Django sends is recorded with the operation that sent it. Django and the
project's code run in a child process; this process only reads the results. The semantics come
from Django itself: the loader and graph (django/db/migrations/loader.py, graph.py), the executor
and `Migration.apply` (executor.py, migration.py), and the documentation of migrations
(https://docs.djangoproject.com/en/stable/topics/migrations/) and of database instrumentation
(https://docs.djangoproject.com/en/stable/topics/db/instrumentation/).

    layout.py     where a project keeps its migrations (manage.py, apps' migrations/ packages)
    files.py      what a migration file says, read with `ast` (operations' lines, dependencies)
    read.py       a project → Migration objects, findings, skipped files
    render.py     the throwaway server and the child process, from the parent's side
    cache.py      renderings and the saved database kept between runs
    worker.py     the child: Django configured, the graph loaded, the plan applied
    configure.py  the project's settings, or a minimal configuration from the folders
    loader.py     Django's MigrationLoader, tolerant of one broken file or an absent app
    apply.py      one migration applied operation by operation, its statements recorded
    standins.py   stand-ins for application code that is not there
    guard.py      the child's confinement: no network but the throwaway server's socket

Only layout.py and files.py are imported to find projects: Django loads in the child.
"""
