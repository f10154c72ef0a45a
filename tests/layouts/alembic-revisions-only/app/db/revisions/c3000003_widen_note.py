"""widen orders.note"""
from alembic import op
import sqlalchemy as sa

revision = "c3000003"
down_revision = "c3000002"


def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.String(50))


def downgrade():
    op.alter_column("orders", "note", type_=sa.String(50), existing_type=sa.String(200))
