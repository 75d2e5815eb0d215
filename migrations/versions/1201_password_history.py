"""auth: a short history of password hashes per user (refuse re-using a recent password)

Revision ID: 1201
Revises: 0002
Create Date: 2026-12-06 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1201"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_history", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_history")
