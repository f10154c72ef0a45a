"""reporting: raw SQL, an enum value, a check constraint

Revision ID: a7c0ffee0007
Revises: f6c0ffee0006
Depends on: d4c0ffee0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "a7c0ffee0007"
down_revision = "f6c0ffee0006"
depends_on = "d4c0ffee0004"


def upgrade():
    op.execute(
        """
        CREATE VIEW customer_orders AS
            SELECT c.id, c.name, count(o.id) AS orders
            FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
            GROUP BY c.id, c.name;
        ANALYZE orders;
        """
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'")
    # migrasafe: ignore MS001 -- customers has a few hundred rows and is written by the admin UI only
    op.create_index("customers_name_idx", "customers", ["name"])
    op.create_check_constraint("orders_total_positive", "orders", "total >= 0")
    op.add_column("orders", sa.Column("tags", postgresql.ARRAY(sa.Text), server_default="{}"))


def downgrade():
    op.drop_column("orders", "tags")
    op.drop_constraint("orders_total_positive", "orders")
    op.drop_index("customers_name_idx", table_name="customers")
    op.execute("DROP VIEW customer_orders")
