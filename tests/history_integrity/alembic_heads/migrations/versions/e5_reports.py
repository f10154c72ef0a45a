"""e5_reports"""
from alembic import op
import sqlalchemy as sa

revision = "e5"
down_revision = "a1"
branch_labels = ("reports",)


def upgrade():
    op.create_table("t_e5", sa.Column("id", sa.BigInteger, primary_key=True))
