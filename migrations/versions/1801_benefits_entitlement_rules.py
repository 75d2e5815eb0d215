"""benefits: the `entitlement` rule block on benefit standards (issue 18)

How the benefits engine computes a standard (basis, payee, persons, alternatives,
partial-period rule, due month, once-in-a-lifetime, in-kind, reference + top-up):
JSON on a tenant-owned table that already has RLS.

Revision ID: 1801
Revises: 1401
Create Date: 2026-12-06 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1801"
down_revision = "1401"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("benefit_standards", schema=None) as b:
        b.add_column(sa.Column("entitlement", sa.JSON(), nullable=False, server_default="{}"))


def downgrade():
    with op.batch_alter_table("benefit_standards", schema=None) as b:
        b.drop_column("entitlement")
