"""register: areas, households, persons, change requests, officer towns, contacts (issue 16)

Resident ID and phone columns hold AES-GCM ciphertext (`kid:base64`), never plaintext;
their blind indexes (HMAC-SHA256 hex) are indexed for exact search and duplicates.

Revision ID: 1601
Revises: 0601
Create Date: 2026-12-06 01:30:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls


revision = '1601'
down_revision = '0601'
branch_labels = None
depends_on = None

TABLES = [
    'areas', 'register_import_mappings', 'households', 'change_requests',
    'household_contacts', 'persons', 'register_officer_towns',
]


def upgrade():
    op.create_table('areas',
    sa.Column('kind', sa.Enum('town', 'village', name='areakind', native_enum=False, length=10), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_areas_tenant_id_parent_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_areas_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_areas')),
    sa.UniqueConstraint('tenant_id', 'kind', 'parent_id', 'name', name=op.f('uq_areas_tenant_id_kind_parent_id_name'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index('ix_areas_tenant_parent', ['tenant_id', 'parent_id'], unique=False)

    op.create_table('register_import_mappings',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_register_import_mappings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_register_import_mappings')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_register_import_mappings_tenant_id_name'))
    )
    op.create_table('households',
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('town_id', sa.Uuid(), nullable=False),
    sa.Column('village_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.Enum('bereaved', 'disabled_child', 'surgery_complication', name='category', native_enum=False, length=30), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('head_name', sa.String(length=40), nullable=False),
    sa.Column('woman_birth_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('registered', 'exited', name='householdstatus', native_enum=False, length=20), nullable=False),
    sa.Column('exit_reason', sa.Enum('death', 'rebirth_adoption', 'moved_away', 'no_longer_eligible', name='exitreason', native_enum=False, length=30), nullable=True),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'town_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_households_tenant_id_town_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id', 'village_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_households_tenant_id_village_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_households_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_tenant_category_status', ['tenant_id', 'category', 'status'], unique=False)
        batch_op.create_index('ix_households_tenant_head_name', ['tenant_id', 'head_name'], unique=False)
        batch_op.create_index('ix_households_tenant_town_status', ['tenant_id', 'town_id', 'status'], unique=False)
        batch_op.create_index('ix_households_tenant_village', ['tenant_id', 'village_id'], unique=False)

    op.create_table('change_requests',
    sa.Column('kind', sa.Enum('enrol', 'change', 'exit', name='requestkind', native_enum=False, length=10), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'returned', name='requeststatus', native_enum=False, length=12), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=True),
    sa.Column('town_id', sa.Uuid(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('evidence_note', sa.Text(), nullable=False),
    sa.Column('batch', sa.String(length=40), nullable=False),
    sa.Column('proposed_by_id', sa.Uuid(), nullable=True),
    sa.Column('proposed_by_name', sa.String(length=80), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=80), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_change_requests_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id', 'town_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_change_requests_tenant_id_town_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_change_requests_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_change_requests'))
    )
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.create_index('ix_change_requests_tenant_household', ['tenant_id', 'household_id'], unique=False)
        batch_op.create_index('ix_change_requests_tenant_status_at', ['tenant_id', 'status', 'proposed_at'], unique=False)
        batch_op.create_index('ix_change_requests_tenant_town_status', ['tenant_id', 'town_id', 'status'], unique=False)

    op.create_table('household_contacts',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_household_contacts_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_contacts_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_household_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_household_contacts')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'household_id', name=op.f('uq_household_contacts_tenant_id_user_id_household_id'))
    )
    with op.batch_alter_table('household_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_household_contacts_tenant_household', ['tenant_id', 'household_id'], unique=False)

    op.create_table('persons',
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.Enum('principal', 'spouse', 'child', 'other', name='relationship', native_enum=False, length=10), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=120), nullable=False),
    sa.Column('id_index', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('gender', sa.Enum('female', 'male', name='gender', native_enum=False), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=True),
    sa.Column('phone_index', sa.String(length=64), nullable=True),
    sa.Column('alive', sa.Boolean(), nullable=False),
    sa.Column('death_date', sa.Date(), nullable=True),
    sa.Column('disability_grade', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_persons_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_persons_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_tenant_household', ['tenant_id', 'household_id'], unique=False)
        batch_op.create_index('ix_persons_tenant_id_index', ['tenant_id', 'id_index'], unique=False)
        batch_op.create_index('ix_persons_tenant_name', ['tenant_id', 'name'], unique=False)
        batch_op.create_index('ix_persons_tenant_phone_index', ['tenant_id', 'phone_index'], unique=False)

    op.create_table('register_officer_towns',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('town_id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'town_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_register_officer_towns_tenant_id_town_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_register_officer_towns_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_register_officer_towns_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_register_officer_towns')),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_register_officer_towns_tenant_id_user_id'))
    )
    for table in TABLES:
        rls.tenant_table(table)


def downgrade():

    op.drop_table('register_officer_towns')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_tenant_phone_index')
        batch_op.drop_index('ix_persons_tenant_name')
        batch_op.drop_index('ix_persons_tenant_id_index')
        batch_op.drop_index('ix_persons_tenant_household')

    op.drop_table('persons')
    with op.batch_alter_table('household_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_household_contacts_tenant_household')

    op.drop_table('household_contacts')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_change_requests_tenant_town_status')
        batch_op.drop_index('ix_change_requests_tenant_status_at')
        batch_op.drop_index('ix_change_requests_tenant_household')

    op.drop_table('change_requests')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_tenant_village')
        batch_op.drop_index('ix_households_tenant_town_status')
        batch_op.drop_index('ix_households_tenant_head_name')
        batch_op.drop_index('ix_households_tenant_category_status')

    op.drop_table('households')
    op.drop_table('register_import_mappings')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index('ix_areas_tenant_parent')

    op.drop_table('areas')
