"""create orders (SQLite)"""
from alembic import op
import sqlalchemy as sa

revision = "b2000001"
down_revision = None


def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
    op.execute("DROP TABLE orders")
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))
    op.drop_column("orders", "id")


def downgrade():
    op.drop_table("orders")
