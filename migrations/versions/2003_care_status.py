"""care status rows: the coverage figures pre-aggregated per household and member (issue 17)

`care_household_status` (one row per household: open contact assignments and their
roles, the last visit, the festivals greeted as "code:year", the quarters with a doctor
contact, the earliest contract) and `care_person_status` (per member: a contract not
declined, the last check-up). Dates and keys, never flags: the figures compare them with
the day's period boundaries. Backfilled here from the care tables, set-based
(`portal.care.status.statements`; `portal care repair-status` runs the same).

Revision ID: 2003_care_status
Revises: 2002_care_followup_actions
Create Date: 2026-12-06 13:20:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenant_tables import create_tenant_table, drop_tenant_table

revision = "2003_care_status"
down_revision = "2002_care_followup_actions"
branch_labels = None
depends_on = None


def _frame() -> list[sa.Column]:
    return [
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    ]


def upgrade():
    create_tenant_table(
        "care_household_status",
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("contact_roles", sa.Text(), nullable=False),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.Column("festivals", sa.Text(), nullable=False),
        sa.Column("doctor_quarters", sa.Text(), nullable=False),
        sa.Column("first_signed_on", sa.Date(), nullable=True),
        *_frame(),
        refs={"household_id": "households"},
    )
    create_tenant_table(
        "care_person_status",
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("last_checkup_on", sa.Date(), nullable=True),
        *_frame(),
        refs={"household_id": "households"},
        indexes={"ix_care_person_status_tenant_household": ["tenant_id", "household_id"]},
    )
    from portal.care.status import statements

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # the owner reads every district's rows
        bind.exec_driver_sql("SELECT set_config('app.cross_tenant', 'on', true)")
    for statement in statements(None):
        bind.execute(statement)


def downgrade():
    drop_tenant_table("care_person_status")
    drop_tenant_table("care_household_status")
