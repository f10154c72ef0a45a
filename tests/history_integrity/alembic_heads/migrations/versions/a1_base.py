"""a1_base"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = None


def upgrade():
    op.create_table("t_a1", sa.Column("id", sa.BigInteger, primary_key=True))
