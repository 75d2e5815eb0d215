"""benefits: the district's bank file layout (columns, order, Chinese headings)

One row per district at most (none: the documented generic layout). Tenant-owned with
forced row-level security like the other benefit tables.

Revision ID: 1803
Revises: 1802
Create Date: 2026-12-06 07:40:00
"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls


# revision identifiers, used by Alembic.
revision = '1803'
down_revision = '1802'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('benefit_bank_layouts',
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('updated_by_name', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benefit_bank_layouts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_benefit_bank_layouts')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_benefit_bank_layouts_tenant_id'))
    )
    rls.tenant_table('benefit_bank_layouts')


def downgrade():
    op.drop_table('benefit_bank_layouts')
