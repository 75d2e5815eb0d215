"""register: the village a village-contact account serves; households by number (issue 16)

Revision ID: 1602_register_contact_villages
Revises: 1601
Create Date: 2026-12-06 04:40:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls


revision = '1602_register_contact_villages'
down_revision = '1601'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('register_contact_villages',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('village_id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'village_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_register_contact_villages_tenant_id_village_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_register_contact_villages_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_register_contact_villages_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_register_contact_villages')),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_register_contact_villages_tenant_id_user_id'))
    )
    with op.batch_alter_table('register_contact_villages', schema=None) as batch_op:
        batch_op.create_index('ix_register_contact_villages_tenant_village', ['tenant_id', 'village_id'], unique=False)
    rls.tenant_table('register_contact_villages')
    # the register lists are ordered by number: a top-25 reads the index in order
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_tenant_number', ['tenant_id', 'number'], unique=False)


def downgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_tenant_number')
    with op.batch_alter_table('register_contact_villages', schema=None) as batch_op:
        batch_op.drop_index('ix_register_contact_villages_tenant_village')
    op.drop_table('register_contact_villages')
