"""orders: placed_at, indexed concurrently (the other branch)

Revision ID: d4c0ffee0004
Revises: b2c0ffee0002
"""
from alembic import op
import sqlalchemy as sa

revision = "d4c0ffee0004"
down_revision = "b2c0ffee0002"
branch_labels = ("orders",)


def upgrade():
    op.add_column("orders", sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.text("now()")))
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_placed_at_idx",
            "orders",
            ["placed_at"],
            postgresql_concurrently=True,
            postgresql_where=sa.text("status <> 'shipped'"),
        )


def downgrade():
    op.drop_index("orders_placed_at_idx", table_name="orders")
    op.drop_column("orders", "placed_at")
