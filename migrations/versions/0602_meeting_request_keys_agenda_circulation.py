"""meetings: one-time create keys (double submissions create once), agenda circulation

Revision ID: 0602
Revises: 0601
Create Date: 2026-12-06 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0602"
down_revision = "0601"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda_circulated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_meetings_tenant_id_request_key", ["tenant_id", "request_key"]
        )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_decisions_request_key", ["tenant_id", "meeting_id", "request_key"]
        )
    # Meetings already held shared their agenda with the invited departments.
    op.execute(
        "UPDATE meetings SET agenda_circulated_at = created_at WHERE status = 'held' "
        "OR meeting_date < CURRENT_DATE"
    )


def downgrade():
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_decisions_request_key", type_="unique")
        batch_op.drop_column("request_key")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint("uq_meetings_tenant_id_request_key", type_="unique")
        batch_op.drop_column("request_key")
        batch_op.drop_column("agenda_circulated_at")
