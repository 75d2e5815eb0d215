"""notice read state per user; attendee names on meeting attendance (workspace)

Revision ID: 1502
Revises: 0701
Create Date: 2026-12-06 04:40:00

"""

import sqlalchemy as sa
from alembic import op

from portal.tenancy import rls

revision = "1502"
down_revision = "0701"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notice_reads",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_notice_reads_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notice_reads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notice_reads")),
        sa.UniqueConstraint("tenant_id", "notice_id", "user_id", name="uq_notice_reads_user"),
    )
    with op.batch_alter_table("notice_reads", schema=None) as batch_op:
        batch_op.create_index("ix_notice_reads_tenant_user", ["tenant_id", "user_id"], unique=False)
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attendees", sa.String(length=300), nullable=False, server_default="")
        )
    rls.ensure_app_role()
    rls.tenant_table("notice_reads")


def downgrade():
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.drop_column("attendees")
    with op.batch_alter_table("notice_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_reads_tenant_user")
    op.drop_table("notice_reads")
