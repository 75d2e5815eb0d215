"""care status rows: the coverage figures pre-aggregated per household and member (issue 17)

`care_village_figures`: the figures per village as of a day and policy, which the
dashboard sums (kept by differences in every care write and register change; a row of
another day is rebuilt by the next write). `care_household_status` (one row per household: open contact assignments and their
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

# the village figures' columns (portal.care.models.FIGURE_COLUMNS as of this revision)
FIGURE_COLUMNS = (
    "households",
    "contact_ok",
    "persons",
    "doctor_signed",
    "festival_due",
    "festival_done",
    "checkup_due",
    "checkup_done",
    "festival_overdue",
    "doctor_overdue",
    "no_contact_quarter",
)

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
    create_tenant_table(
        "care_village_figures",
        sa.Column("town_id", sa.Uuid(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURE_COLUMNS),
        refs={"id": "areas", "town_id": "areas"},
        indexes={"ix_care_village_figures_tenant_town": ["tenant_id", "town_id"]},
    )
    from portal.care.status import statements

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # the owner reads every district's rows
        bind.exec_driver_sql("SELECT set_config('app.cross_tenant', 'on', true)")
    for statement, params in statements(None, dialect=bind.dialect.name):
        bind.execute(statement, params)


def downgrade():
    drop_tenant_table("care_village_figures")
    drop_tenant_table("care_person_status")
    drop_tenant_table("care_household_status")
