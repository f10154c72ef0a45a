"""create orders"""
from alembic import op
import sqlalchemy as sa

revision = "a1000001"
down_revision = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("note", sa.String(50)),
        sa.Column("customer_id", sa.BigInteger),
    )


def downgrade():
    op.drop_table("orders")
