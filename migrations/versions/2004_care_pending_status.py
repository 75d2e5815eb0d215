"""care pending status: households whose status row a visit has left behind (issue 17)

`care_pending_status` (one row per marked household, `id` = the household's id): a
visit that can move a coverage figure writes only this mark; the next reader of the
pre-aggregated figures settles every marked household of its district in one pass
(`portal.care.status.settle`). Empty when created: every status row is up to date.

Revision ID: 2004_care_pending_status
Revises: 2003_care_status
Create Date: 2026-12-06 22:30:00

"""

import sqlalchemy as sa

from migrations.tenant_tables import create_tenant_table, drop_tenant_table

revision = "2004_care_pending_status"
down_revision = "2003_care_status"
branch_labels = None
depends_on = None


def upgrade():
    create_tenant_table(
        "care_pending_status",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        refs={"household_id": "households"},
    )


def downgrade():
    drop_tenant_table("care_pending_status")
