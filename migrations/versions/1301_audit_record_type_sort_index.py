"""audit: the viewer sorts by record type (tenant_id, entity_type, seq)

Revision ID: 1301
Revises: 0402
Create Date: 2026-12-06 07:30:00

The trail's columns sort by an index each, ending in `seq` (paging.SORTS): time by the
primary key, person by (tenant_id, actor_name, seq) of 0402, action by (tenant_id,
action, seq) of 0401; record type had only (tenant_id, entity_type, entity_id, seq),
whose entity_id between type and seq would make a sort by type read every event of the
type. This one lets a sort by record type stop after a page.
"""

from alembic import op

revision = "1301"
down_revision = "0402"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_tenant_entity_type_seq",
            ["tenant_id", "entity_type", "seq"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tenant_entity_type_seq")
