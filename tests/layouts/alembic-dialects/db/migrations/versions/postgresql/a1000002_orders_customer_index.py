"""index orders.customer_id"""
from alembic import op

revision = "a1000002"
down_revision = "a1000001"


def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.create_index("orders_customer_id", "orders", ["customer_id"])


def downgrade():
    op.drop_index("orders_customer_id", table_name="orders")
