"""care follow-ups become action items: action_items.visit_id (issue 17)

A visit whose follow-up the lead turns into an action item (督办事项), or links to one,
is named on the item; the meetings domain (above care) reads care's visits, care never
reads meetings.

Revision ID: 2002_care_followup_actions
Revises: 2001_care
Create Date: 2026-12-06 07:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '2002_care_followup_actions'
down_revision = '2001_care'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_action_items_tenant_id_visit_id_care_visits'),
            'care_visits', ['tenant_id', 'visit_id'], ['tenant_id', 'id'],
        )
        batch_op.create_index('ix_action_items_tenant_visit', ['tenant_id', 'visit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index('ix_action_items_tenant_visit')
        batch_op.drop_constraint(op.f('fk_action_items_tenant_id_visit_id_care_visits'), type_='foreignkey')
        batch_op.drop_column('visit_id')
