"""orders: totals as numeric, backfilled from the database

Revision ID: f6c0ffee0006
Revises: e5c0ffee0005
"""
from alembic import op
import sqlalchemy as sa

revision = "f6c0ffee0006"
down_revision = "e5c0ffee0005"


def upgrade():
    op.add_column("orders", sa.Column("total", sa.Text))
    op.alter_column("orders", "total", type_=sa.Numeric(12, 2), postgresql_using="total::numeric(12,2)")
    conn = op.get_bind()
    orders = sa.table("orders", sa.column("id", sa.BigInteger), sa.column("total", sa.Numeric))
    for row in conn.execute(sa.select(orders.c.id)):
        conn.execute(orders.update().where(orders.c.id == row.id).values(total=0))
    largest = conn.execute(sa.text("SELECT max(id) FROM orders")).scalar()
    op.execute(f"ALTER SEQUENCE orders_id_seq RESTART WITH {largest + 1}")


def downgrade():
    op.drop_column("orders", "total")
