"""create shop

Revision ID: a1c0ffee0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

from shopapp.statuses import ORDER_STATUSES

revision = "a1c0ffee0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    )
    orders = op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("status", sa.Enum(*ORDER_STATUSES, name="order_status"), nullable=False),
        sa.Column("note", sa.String(100)),
    )
    op.create_index("orders_status_idx", "orders", ["status"])
    op.bulk_insert(orders, [])
    op.bulk_insert(
        sa.table("customers", sa.column("id", sa.BigInteger), sa.column("name", sa.Text)),
        [{"id": 1, "name": "first customer"}],
    )


def downgrade():
    op.drop_table("orders")
    op.drop_table("customers")
    op.execute("DROP TYPE order_status")
