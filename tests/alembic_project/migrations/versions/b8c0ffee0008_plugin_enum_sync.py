"""orders: enum values synced by a plugin that is not installed

Revision ID: b8c0ffee0008
Revises: a7c0ffee0007
"""
from alembic import op
import sqlalchemy as sa
from alembic_enum_sync_plugin import TableReference

revision = "b8c0ffee0008"
down_revision = "a7c0ffee0007"


def upgrade():
    op.sync_enum_values(
        "public",
        "order_status",
        ["pending", "paid", "shipped", "refunded", "lost"],
        [TableReference(table_schema="public", table_name="orders", column_name="status")],
    )
    op.drop_column("orders", "tags")


def downgrade():
    pass
