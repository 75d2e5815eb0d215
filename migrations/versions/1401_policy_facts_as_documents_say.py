"""policy: what the documents say and no more (issue 14)

Document-wide lead and member units, inferred values with reasons, per-district
department kinds and the lead's adoption of a draft on policy_versions; clause type,
lead-from-document and inferred on measures; the scope of a funding split; an amount
in force before a date with an unknown start; inferred values on the meeting
arrangement. The new columns are on tenant-owned tables that already have RLS.

Revision ID: 1401
Revises: 0601
Create Date: 2026-12-06 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1401"
down_revision = "0601"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("policy_versions", schema=None) as b:
        b.add_column(
            sa.Column("lead_department_key", sa.String(60), nullable=False, server_default="")
        )
        b.add_column(
            sa.Column("member_department_keys", sa.JSON(), nullable=False, server_default="[]")
        )
        b.add_column(sa.Column("inferred", sa.JSON(), nullable=False, server_default="{}"))
        b.add_column(sa.Column("department_kinds", sa.JSON(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("adopted_at", sa.DateTime(), nullable=True))
        b.add_column(sa.Column("adopted_by", sa.String(120), nullable=False, server_default=""))
    with op.batch_alter_table("measures", schema=None) as b:
        b.add_column(sa.Column("clause", sa.String(20), nullable=False, server_default="measure"))
        b.add_column(
            sa.Column("lead_from_document", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        b.add_column(sa.Column("inferred", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("benefit_standards", schema=None) as b:
        b.add_column(
            sa.Column("funding_split_applies_to", sa.String(20), nullable=False, server_default="")
        )
    with op.batch_alter_table("benefit_values", schema=None) as b:
        b.alter_column("effective_from", existing_type=sa.Date(), nullable=True)
        b.add_column(sa.Column("in_force_before", sa.Date(), nullable=True))
    with op.batch_alter_table("meeting_arrangements", schema=None) as b:
        b.add_column(sa.Column("inferred", sa.JSON(), nullable=False, server_default="{}"))


def downgrade():
    with op.batch_alter_table("meeting_arrangements", schema=None) as b:
        b.drop_column("inferred")
    with op.batch_alter_table("benefit_values", schema=None) as b:
        b.drop_column("in_force_before")
        b.alter_column("effective_from", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("benefit_standards", schema=None) as b:
        b.drop_column("funding_split_applies_to")
    with op.batch_alter_table("measures", schema=None) as b:
        b.drop_column("inferred")
        b.drop_column("lead_from_document")
        b.drop_column("clause")
    with op.batch_alter_table("policy_versions", schema=None) as b:
        b.drop_column("adopted_by")
        b.drop_column("adopted_at")
        b.drop_column("department_kinds")
        b.drop_column("inferred")
        b.drop_column("member_department_keys")
        b.drop_column("lead_department_key")
