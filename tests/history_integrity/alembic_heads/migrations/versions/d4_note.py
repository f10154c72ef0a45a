"""d4_note"""
from alembic import op
import sqlalchemy as sa

revision = "d4"
down_revision = "b2"
branch_labels = None


def upgrade():
    op.create_table("t_d4", sa.Column("id", sa.BigInteger, primary_key=True))
