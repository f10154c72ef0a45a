"""fill t.note

Revision ID: 3c
Revises: 2b
"""
from alembic import op

revision = "3c"
down_revision = "2b"


def upgrade():
    op.execute("UPDATE t SET note = 'none' WHERE note IS NULL")


def downgrade():
    pass
