"""orders: index on customer_id, rename note

Revision ID: b2c0ffee0002
Revises: a1c0ffee0001
"""
from alembic import op
import sqlalchemy as sa

revision = "b2c0ffee0002"
down_revision = "a1c0ffee0001"


def upgrade():
    op.create_index("orders_customer_idx", "orders", ["customer_id"])
    op.alter_column("orders", "note", new_column_name="customer_note")


def downgrade():
    op.alter_column("orders", "customer_note", new_column_name="note")
    op.drop_index("orders_customer_idx", table_name="orders")
