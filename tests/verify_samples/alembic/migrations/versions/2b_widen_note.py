"""widen t.note

Revision ID: 2b
Revises: 1a
"""
from alembic import op
import sqlalchemy as sa

revision = "2b"
down_revision = "1a"


def upgrade():
    op.alter_column("t", "note", type_=sa.String(200))


def downgrade():
    op.alter_column("t", "note", type_=sa.String(100))
