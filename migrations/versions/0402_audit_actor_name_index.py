"""audit: the viewer filters by actor name (also "anonymous" and "system:<command>")

Revision ID: 0402
Revises: 0401
Create Date: 2026-11-25 10:40:00
"""

from alembic import op

revision = "0402"
down_revision = "0401"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_tenant_actor_name_seq", ["tenant_id", "actor_name", "seq"], unique=False
        )


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tenant_actor_name_seq")
