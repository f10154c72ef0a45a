"""merge the customers and orders branches

Revision ID: e5c0ffee0005
Revises: c3c0ffee0003, d4c0ffee0004
"""
revision = "e5c0ffee0005"
down_revision = ("c3c0ffee0003", "d4c0ffee0004")


def upgrade():
    pass


def downgrade():
    pass
