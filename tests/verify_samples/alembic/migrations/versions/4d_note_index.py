"""index t.note

Revision ID: 4d
Revises: 3c
"""
from alembic import op

revision = "4d"
down_revision = "3c"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("t_note_idx", "t", ["note"], postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("t_note_idx", postgresql_concurrently=True)
