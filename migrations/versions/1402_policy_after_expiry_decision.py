"""policy: the lead's decision to keep working to an expired policy (issue 14)

张店's policy expired on 2026-01-07. A version that has expired creates duties for
half-years after its end only when the district lead has decided, audited, that the
district keeps working to it until a new one is loaded. The columns are on
policy_versions, a tenant-owned table that already has RLS.

Revision ID: 1402
Revises: 1401
Create Date: 2026-12-06 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1402"
down_revision = "1401"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("policy_versions", schema=None) as b:
        b.add_column(sa.Column("after_expiry", sa.String(10), nullable=False, server_default=""))
        b.add_column(sa.Column("after_expiry_decided_at", sa.DateTime(), nullable=True))
        b.add_column(
            sa.Column("after_expiry_decided_by", sa.String(120), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("policy_versions", schema=None) as b:
        b.drop_column("after_expiry_decided_by")
        b.drop_column("after_expiry_decided_at")
        b.drop_column("after_expiry")
