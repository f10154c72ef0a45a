from alembic import context

raise RuntimeError("migrasafe renders the revisions offline: env.py never runs")
