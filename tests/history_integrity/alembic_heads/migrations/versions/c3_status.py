"""c3_status"""
from alembic import op
import sqlalchemy as sa

revision = "c3"
down_revision = "b2"
branch_labels = None


def upgrade():
    op.create_table("t_c3", sa.Column("id", sa.BigInteger, primary_key=True))
