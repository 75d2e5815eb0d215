"""duties: indexes for the officer's open-duties list and evidence look-ups

Revision ID: 0301
Revises: 0002
Create Date: 2026-11-25 10:10:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0301"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("duties", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duties_tenant_department_status_due",
            ["tenant_id", "department_id", "status", "due_date"],
            unique=False,
        )
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_files_tenant_entry", ["tenant_id", "entry_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_files_tenant_entry")
    with op.batch_alter_table("duties", schema=None) as batch_op:
        batch_op.drop_index("ix_duties_tenant_department_status_due")
