"""b2_orders"""
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"
branch_labels = ("orders",)


def upgrade():
    op.create_table("t_b2", sa.Column("id", sa.BigInteger, primary_key=True))
