"""a revision that changes nothing, as a merge revision does

Revision ID: 6f
Revises: 5e
"""
revision = "6f"
down_revision = "5e"


def upgrade():
    pass


def downgrade():
    pass
