"""care: contact persons, assignments, family-doctor contracts, check-ups, visits (issue 17)

Also the policy version's `care` section (the document's contact composition and care
cadences, docs/policy-format.md). Contact phone numbers hold AES-GCM ciphertext, never
plaintext; every table carries tenant_id in its keys and the tenant RLS policy.

Revision ID: 2001_care
Revises: 1601
Create Date: 2026-12-06 04:40:00

"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls


revision = '2001_care'
down_revision = '1601'
branch_labels = None
depends_on = None

TABLES = [
    'care_contacts', 'care_assignments', 'care_doctor_contracts', 'care_checkups',
    'care_visits', 'care_visit_photos',
]


def upgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('care', sa.JSON(), nullable=False, server_default='{}'))

    op.create_table('care_contacts',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('position', sa.String(length=60), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=True),
    sa.Column('phone_index', sa.String(length=64), nullable=True),
    sa.Column('town_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'town_id'], ['areas.tenant_id', 'areas.id'], name=op.f('fk_care_contacts_tenant_id_town_id_areas')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_contacts_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_care_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_contacts'))
    )
    op.create_index('ix_care_contacts_tenant_town_active', 'care_contacts', ['tenant_id', 'town_id', 'active'], unique=False)
    op.create_index('ix_care_contacts_tenant_user', 'care_contacts', ['tenant_id', 'user_id'], unique=False)
    op.create_table('care_assignments',
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['care_contacts.tenant_id', 'care_contacts.id'], name=op.f('fk_care_assignments_tenant_id_contact_id_care_contacts')),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_assignments_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_assignments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_assignments'))
    )
    op.create_index('ix_care_assignments_tenant_contact', 'care_assignments', ['tenant_id', 'contact_id', 'ended_on'], unique=False)
    op.create_index('ix_care_assignments_tenant_household', 'care_assignments', ['tenant_id', 'household_id', 'ended_on'], unique=False)
    op.create_table('care_doctor_contracts',
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('doctor', sa.String(length=40), nullable=False),
    sa.Column('institution', sa.String(length=100), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('renewed_on', sa.Date(), nullable=True),
    sa.Column('declined', sa.Boolean(), nullable=False),
    sa.Column('declined_reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_doctor_contracts_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['persons.tenant_id', 'persons.id'], name=op.f('fk_care_doctor_contracts_tenant_id_person_id_persons')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_doctor_contracts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_doctor_contracts')),
    sa.UniqueConstraint('tenant_id', 'person_id', name=op.f('uq_care_doctor_contracts_tenant_id_person_id'))
    )
    op.create_index('ix_care_doctor_contracts_tenant_household', 'care_doctor_contracts', ['tenant_id', 'household_id'], unique=False)
    op.create_table('care_checkups',
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('institution', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_checkups_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['persons.tenant_id', 'persons.id'], name=op.f('fk_care_checkups_tenant_id_person_id_persons')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_checkups_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_checkups'))
    )
    op.create_index('ix_care_checkups_tenant_household_on', 'care_checkups', ['tenant_id', 'household_id', 'done_on'], unique=False)
    op.create_index('ix_care_checkups_tenant_on', 'care_checkups', ['tenant_id', 'done_on'], unique=False)
    op.create_table('care_visits',
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('home', 'phone', 'festival', 'hospital', 'emotional', 'doctor', 'other', name='visitkind', native_enum=False, length=20), nullable=False),
    sa.Column('festival', sa.String(length=30), nullable=False),
    sa.Column('festival_year', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('visitor_name', sa.String(length=80), nullable=False),
    sa.Column('companions', sa.String(length=200), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('follow_up', sa.Boolean(), nullable=False),
    sa.Column('follow_up_note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_care_visits_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['care_contacts.tenant_id', 'care_contacts.id'], name=op.f('fk_care_visits_tenant_id_contact_id_care_contacts')),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_visits_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_visits_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_visits'))
    )
    op.create_index('ix_care_visits_tenant_on_kind', 'care_visits', ['tenant_id', 'visited_on', 'kind'], unique=False)
    op.create_index('ix_care_visits_tenant_household_on', 'care_visits', ['tenant_id', 'household_id', 'visited_on'], unique=False)
    op.create_index('ix_care_visits_tenant_festival', 'care_visits', ['tenant_id', 'festival', 'festival_year'], unique=False)
    op.create_table('care_visit_photos',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_visit_photos_tenant_id_household_id_households')),
    sa.ForeignKeyConstraint(['tenant_id', 'visit_id'], ['care_visits.tenant_id', 'care_visits.id'], name=op.f('fk_care_visit_photos_tenant_id_visit_id_care_visits')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_visit_photos_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_visit_photos'))
    )
    op.create_index('ix_care_visit_photos_tenant_visit', 'care_visit_photos', ['tenant_id', 'visit_id'], unique=False)
    for table in TABLES:
        rls.tenant_table(table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_column('care')
