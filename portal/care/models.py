"""Care records per household: contact persons and their assignments (with history),
family-doctor contracts, check-ups, visits and their photos.

Every row names its household, and who sees it follows the household: the register's
`Household.scope_criteria` (town officers: their town; village contacts: the households
assigned to them; the eligibility department: the district). Phone numbers of contact
persons are stored encrypted with the register's `pii.Encrypted`, beside a blind index.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, StoredFile, TenantOwned, tenant_fk, utcnow
from portal.register.models import (
    TOWN_OFFICER,
    VILLAGE_CONTACT,
    Household,
    officer_towns,
)
from portal.register.pii import Encrypted

ROLES = (TOWN_OFFICER, VILLAGE_CONTACT)


class VisitKind(enum.StrEnum):
    home = "home"  # 上门走访
    phone = "phone"  # 电话
    festival = "festival"  # 节日慰问
    hospital = "hospital"  # 住院探视
    emotional = "emotional"  # 心理慰藉
    doctor = "doctor"  # 家庭医生联系
    other = "other"  # 其他


def _by_household(cls: Any, user_id: uuid.UUID | None, role: str | None, department_id: Any):
    inner = Household.scope_criteria(user_id, role, department_id)
    if inner is None:
        return None
    return cls.household_id.in_(sa.select(Household.id).where(inner))


class _HouseholdRecord(TenantOwned):
    """A care row of one household: who sees it follows the household (the register's
    scope: town officers their town, village contacts their households), the household
    is in its keys (`_keys`), and the back office does not list it."""

    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = ROLES

    household_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @classmethod
    def scope_criteria(cls, user_id: uuid.UUID | None, role: str | None, department_id: Any):
        return _by_household(cls, user_id, role, department_id)


def _keys(*more: Any) -> tuple:
    """The household's composite foreign key and the table's other keys and indexes."""
    return (tenant_fk(["household_id"], "households", ["id"]), *more)


class Contact(TenantOwned, Base):
    """A contact person (帮扶联系人): a cadre, doctor, grid worker, volunteer …

    `role` is a code of the policy format's contact roles (`CONTACT_ROLES`); `user_id`
    links a `village_contact` account when the person has one."""

    __tablename__ = "care_contacts"
    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = ROLES
    __audit_mask__ = frozenset({"phone"})
    __table_args__ = (
        tenant_fk(["town_id"], "areas", ["id"]),
        sa.Index("ix_care_contacts_tenant_town_active", "tenant_id", "town_id", "active"),
        sa.Index("ix_care_contacts_tenant_user", "tenant_id", "user_id"),
    )

    name: Mapped[str] = mapped_column(sa.String(40))
    unit: Mapped[str] = mapped_column(sa.String(100), default="")  # 工作单位
    position: Mapped[str] = mapped_column(sa.String(60), default="")  # 职务
    role: Mapped[str] = mapped_column(sa.String(30))
    phone: Mapped[str | None] = mapped_column(Encrypted("phone"))
    phone_index: Mapped[str | None] = mapped_column(sa.String(64))
    town_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    def __str__(self) -> str:  # the audit summary: a name, never a number
        return self.name

    @classmethod
    def scope_criteria(cls, user_id: uuid.UUID | None, role: str | None, department_id: Any):
        """Town officers: their town's contacts; village contacts: themselves and the
        contacts of their households."""
        if role == TOWN_OFFICER:
            return cls.town_id.in_(officer_towns(user_id))
        if role == VILLAGE_CONTACT:
            mine = sa.select(Assignment.contact_id).where(
                Assignment.household_id.in_(
                    sa.select(Household.id).where(
                        Household.scope_criteria(user_id, role, department_id)
                    )
                )
            )
            return sa.or_(cls.user_id == user_id, cls.id.in_(mine))
        return None


class Assignment(_HouseholdRecord, Base):
    """A contact person assigned to a household from `started_on` until `ended_on`
    (open while None): reassignment ends a row and starts another, so history stays."""

    __tablename__ = "care_assignments"
    __table_args__ = _keys(
        tenant_fk(["contact_id"], "care_contacts", ["id"]),
        sa.Index("ix_care_assignments_tenant_household", "tenant_id", "household_id", "ended_on"),
        sa.Index("ix_care_assignments_tenant_contact", "tenant_id", "contact_id", "ended_on"),
    )

    contact_id: Mapped[uuid.UUID]
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    end_reason: Mapped[str] = mapped_column(sa.String(200), default="")


class DoctorContract(_HouseholdRecord, Base):
    """A person's family-doctor contract (家庭医生签约), or the person's refusal."""

    __tablename__ = "care_doctor_contracts"
    __table_args__ = _keys(
        tenant_fk(["person_id"], "persons", ["id"]),
        sa.UniqueConstraint("tenant_id", "person_id"),
        sa.Index("ix_care_doctor_contracts_tenant_household", "tenant_id", "household_id"),
    )

    person_id: Mapped[uuid.UUID]
    doctor: Mapped[str] = mapped_column(sa.String(40), default="")
    institution: Mapped[str] = mapped_column(sa.String(100), default="")
    signed_on: Mapped[dt.date | None]
    renewed_on: Mapped[dt.date | None]
    declined: Mapped[bool] = mapped_column(default=False)
    declined_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    row_version: Mapped[int] = mapped_column(default=1)

    def __str__(self) -> str:
        return self.doctor or self.declined_reason


class Checkup(_HouseholdRecord, Base):
    """A check-up (体检) a person had on a day."""

    __tablename__ = "care_checkups"
    __table_args__ = _keys(
        tenant_fk(["person_id"], "persons", ["id"]),
        sa.Index("ix_care_checkups_tenant_household_on", "tenant_id", "household_id", "done_on"),
        sa.Index("ix_care_checkups_tenant_on", "tenant_id", "done_on"),
    )

    person_id: Mapped[uuid.UUID]
    done_on: Mapped[dt.date]
    institution: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")

    def __str__(self) -> str:
        return self.done_on.isoformat()


class Visit(_HouseholdRecord, Base):
    """One logged contact with a household (走访 / 慰问 / 联系)."""

    __tablename__ = "care_visits"
    __table_args__ = _keys(
        tenant_fk(["contact_id"], "care_contacts", ["id"]),
        sa.Index("ix_care_visits_tenant_household_on", "tenant_id", "household_id", "visited_on"),
        sa.Index("ix_care_visits_tenant_on_kind", "tenant_id", "visited_on", "kind"),
        sa.Index("ix_care_visits_tenant_festival", "tenant_id", "festival", "festival_year"),
    )

    visited_on: Mapped[dt.date]
    kind: Mapped[VisitKind] = mapped_column(sa.Enum(VisitKind, native_enum=False, length=20))
    festival: Mapped[str] = mapped_column(sa.String(30), default="")  # a CARE_FESTIVALS code
    festival_year: Mapped[int | None]
    contact_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())  # who went
    visitor_name: Mapped[str] = mapped_column(sa.String(80), default="")
    companions: Mapped[str] = mapped_column(sa.String(200), default="")  # with whom
    findings: Mapped[str] = mapped_column(sa.Text, default="")
    follow_up: Mapped[bool] = mapped_column(default=False)
    follow_up_note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))

    def __str__(self) -> str:
        return f"{self.visited_on.isoformat()} {self.kind.value}"


class VisitPhoto(_HouseholdRecord, StoredFile, Base):
    """An evidence photo of a visit, stored on disk like a duty's evidence file."""

    __tablename__ = "care_visit_photos"
    __table_args__ = _keys(
        tenant_fk(["visit_id"], "care_visits", ["id"]),
        sa.Index("ix_care_visit_photos_tenant_visit", "tenant_id", "visit_id"),
    )

    visit_id: Mapped[uuid.UUID]


def assigned_contact() -> sa.ColumnElement[bool]:
    """The join of an assignment to its contact person (tenant and id)."""
    return sa.and_(Contact.tenant_id == Assignment.tenant_id, Contact.id == Assignment.contact_id)


class HouseholdCareStatus(_HouseholdRecord, Base):
    """A household's care facts, kept for the coverage figures (pre-aggregated): one row
    per household with care records, `id` = the household's id, rewritten by `status`
    in the same transaction as every care write. Dates and keys, never flags: "this
    quarter" and "this festival" move with the calendar, so the figures compare these
    with the period boundaries of the day asked. Eligibility (status, category, village,
    the holders' ages) is never copied here: the figures join the register live.
    Derived data: not audited (the care rows it is computed from are)."""

    __tablename__ = "care_household_status"
    __audit__ = False
    __table_args__ = _keys()

    contacts: Mapped[int] = mapped_column(default=0)  # open assignments, active persons
    contact_roles: Mapped[str] = mapped_column(sa.Text, default="")  # "|role||role|"
    last_visit_on: Mapped[dt.date | None]  # any kind
    festivals: Mapped[str] = mapped_column(sa.Text, default="")  # "|code:year|" per visit
    doctor_quarters: Mapped[str] = mapped_column(sa.Text, default="")  # "|20263|" (year·10+q)
    first_signed_on: Mapped[dt.date | None]  # earliest signed, not declined, contract


class PersonCareStatus(_HouseholdRecord, Base):
    """A member's care facts for the per-person figures (family doctor signed, check-up
    done), `id` = the person's id; kept like `HouseholdCareStatus`."""

    __tablename__ = "care_person_status"
    __audit__ = False
    __table_args__ = _keys(
        sa.Index("ix_care_person_status_tenant_household", "tenant_id", "household_id"),
    )

    signed: Mapped[bool] = mapped_column(default=False)  # a contract not declined
    last_checkup_on: Mapped[dt.date | None]


class PendingHouseholdStatus(_HouseholdRecord, Base):
    """A household whose status row (and its village's figures) a visit has left behind:
    `id` = the household's id. A visit that can move a figure writes only this mark;
    the next reader of the pre-aggregated figures (`status.settle`, called by
    `figures.coverage`) brings every marked household of the district up to date in one
    set-based pass. Derived data: not audited (the visit is)."""

    __tablename__ = "care_pending_status"
    __audit__ = False
    __table_args__ = _keys()


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


class VillageCareFigures(TenantOwned, Base):
    """The coverage figures of one village as of a day under one policy (`policy_key`),
    `id` = the village's id: the dashboard sums these rows. Kept by `status.touch` in
    the transaction of every care write and of every register change of a household or
    member (the difference of the households' figures before and after); rows of
    another day or policy are stale and are rebuilt from the status rows by the next
    write (the dashboard computes the figures from the status rows meanwhile).
    Derived data: not audited."""

    __tablename__ = "care_village_figures"
    __admin__ = False
    __audit__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = ROLES
    __table_args__ = (
        tenant_fk(["id"], "areas", ["id"]),
        tenant_fk(["town_id"], "areas", ["id"]),
        sa.Index("ix_care_village_figures_tenant_town", "tenant_id", "town_id"),
    )

    town_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    as_of: Mapped[dt.date]
    policy_key: Mapped[str] = mapped_column(sa.String(64))
    households: Mapped[int] = mapped_column(default=0)
    contact_ok: Mapped[int] = mapped_column(default=0)
    persons: Mapped[int] = mapped_column(default=0)
    doctor_signed: Mapped[int] = mapped_column(default=0)
    festival_due: Mapped[int] = mapped_column(default=0)
    festival_done: Mapped[int] = mapped_column(default=0)
    checkup_due: Mapped[int] = mapped_column(default=0)
    checkup_done: Mapped[int] = mapped_column(default=0)
    festival_overdue: Mapped[int] = mapped_column(default=0)
    doctor_overdue: Mapped[int] = mapped_column(default=0)
    no_contact_quarter: Mapped[int] = mapped_column(default=0)

    @classmethod
    def scope_criteria(cls, user_id: uuid.UUID | None, role: str | None, department_id: Any):
        """Town officers: their towns' villages; village contacts see no area figures."""
        if role == TOWN_OFFICER:
            return cls.town_id.in_(officer_towns(user_id))
        if role == VILLAGE_CONTACT:
            return sa.false()
        return None
