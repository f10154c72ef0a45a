"""customers: email, required (one branch)

Revision ID: c3c0ffee0003
Revises: b2c0ffee0002
"""
from alembic import op
import sqlalchemy as sa

revision = "c3c0ffee0003"
down_revision = "b2c0ffee0002"
branch_labels = ("customers",)


def upgrade():
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("email", sa.Text, nullable=True))
        batch_op.add_column(sa.Column("vip", sa.Boolean, server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE customers SET email = name || '@example.com'"))
    op.alter_column("customers", "email", nullable=False)


def downgrade():
    op.drop_column("customers", "vip")
    op.drop_column("customers", "email")
