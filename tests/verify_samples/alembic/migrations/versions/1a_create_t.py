"""create t

Revision ID: 1a
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "1a"
down_revision = None


def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(50)))


def downgrade():
    op.drop_table("t")
