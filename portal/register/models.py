"""The families register (特殊家庭档案): areas, households, persons and change requests.

Only confirmed data lives in `Household` and `Person`; a town officer's proposal is a
`ChangeRequest` until the eligibility department confirms it. Resident ID and phone
numbers are stored encrypted (`pii.Encrypted`) beside their blind index; nothing here
ever holds them in plaintext in the database.

Who sees which rows is decided by `scope_criteria` (called by the one central scoping
hook, `portal.tenancy.scope`), never by a per-view filter.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, TenantOwned, tenant_fk, utcnow
from portal.kernel import memo
from portal.register.pii import Encrypted

TOWN_OFFICER = "town_officer"
VILLAGE_CONTACT = "village_contact"
DEPT_OFFICER = "dept_officer"
#: The department kind that confirms eligibility (资格确认) when the policy names none.
ELIGIBILITY_KIND = "health"


class AreaKind(enum.StrEnum):
    town = "town"  # 街镇
    village = "village"  # 村居


class Category(enum.StrEnum):
    bereaved = "bereaved"  # 失独
    disabled_child = "disabled_child"  # 伤残
    surgery_complication = "surgery_complication"  # 手术并发症


class HouseholdStatus(enum.StrEnum):
    registered = "registered"  # 在册
    exited = "exited"  # 退出


class ExitReason(enum.StrEnum):
    death = "death"  # 死亡
    rebirth_adoption = "rebirth_adoption"  # 再生育/收养
    moved_away = "moved_away"  # 迁出
    no_longer_eligible = "no_longer_eligible"  # 不再符合


class Relationship(enum.StrEnum):
    principal = "principal"  # 本人
    spouse = "spouse"  # 配偶
    child = "child"  # 子女
    other = "other"  # 其他


class Gender(enum.StrEnum):
    female = "female"
    male = "male"


class RequestKind(enum.StrEnum):
    enrol = "enrol"
    change = "change"
    exit = "exit"


class RequestStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    returned = "returned"


def eligibility_department() -> sa.ScalarSelect:
    """The department that confirms eligibility: the district's first `health` department
    (卫健; community health centres of the same kind come later in its order)."""
    from portal.tenancy.models import Department

    return (
        sa.select(Department.id)
        .where(Department.kind_code == ELIGIBILITY_KIND, Department.active.is_(True))
        .order_by(Department.sort_order, Department.key)
        .limit(1)
        .scalar_subquery()
    )


def _eligibility_officer(department_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """True for the whole register when the officer's department confirms eligibility."""
    return sa.bindparam("eligibility_dept", department_id, type_=sa.Uuid(), unique=True) == (
        eligibility_department()
    )


class Area(TenantOwned, Base):
    """A town/street (街镇) or, below one, a village/community (村居)."""

    __tablename__ = "areas"
    __admin__ = False
    __table_args__ = (
        tenant_fk(["parent_id"], "areas", ["id"]),
        sa.UniqueConstraint("tenant_id", "kind", "parent_id", "name"),
        sa.Index("ix_areas_tenant_parent", "tenant_id", "parent_id"),
    )

    kind: Mapped[AreaKind] = mapped_column(sa.Enum(AreaKind, native_enum=False, length=10))
    name: Mapped[str] = mapped_column(sa.String(80))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


class OfHousehold:
    """Rows of a household (the household itself, its change requests), seen alike: a town
    officer sees their town's, a village contact their assigned households', a department
    officer all when their department confirms eligibility, none otherwise."""

    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = (TOWN_OFFICER, VILLAGE_CONTACT)
    household_column = "household_id"  # the column naming the row's household

    @classmethod
    def scope_criteria(cls, user_id: uuid.UUID | None, role: str | None, department_id: Any):
        if role == TOWN_OFFICER:
            return cls.town_id.in_(officer_towns(user_id))  # type: ignore[attr-defined]
        if role == VILLAGE_CONTACT:
            return getattr(cls, cls.household_column).in_(contact_households(user_id))
        if role == DEPT_OFFICER and department_id is not None:
            return _eligibility_officer(department_id)
        return None


class Household(OfHousehold, TenantOwned, Base):
    """One registered special family (特殊家庭), in one village of one town."""

    __tablename__ = "households"
    household_column = "id"
    __table_args__ = (
        tenant_fk(["village_id"], "areas", ["id"]),
        tenant_fk(["town_id"], "areas", ["id"]),
        sa.Index("ix_households_tenant_town_status", "tenant_id", "town_id", "status"),
        sa.Index("ix_households_tenant_village", "tenant_id", "village_id"),
        sa.Index("ix_households_tenant_category_status", "tenant_id", "category", "status"),
        sa.Index("ix_households_tenant_head_name", "tenant_id", "head_name"),
        sa.Index("ix_households_tenant_number", "tenant_id", "number"),  # the lists' order
    )

    number: Mapped[str] = mapped_column(sa.String(30))  # 档案号, per district
    town_id: Mapped[uuid.UUID]
    village_id: Mapped[uuid.UUID]
    category: Mapped[Category] = mapped_column(sa.Enum(Category, native_enum=False, length=30))
    level: Mapped[str] = mapped_column(sa.String(20), default="")  # 伤残等级 / 并发症级别
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    head_name: Mapped[str] = mapped_column(sa.String(40), default="")  # 户主 (denormalised)
    woman_birth_date: Mapped[dt.date | None]  # 女方 (from her ID; 女方年满49周岁)
    status: Mapped[HouseholdStatus] = mapped_column(
        sa.Enum(HouseholdStatus, native_enum=False, length=20), default=HouseholdStatus.registered
    )
    exit_reason: Mapped[ExitReason | None] = mapped_column(
        sa.Enum(ExitReason, native_enum=False, length=30)
    )
    exit_date: Mapped[dt.date | None]
    registered_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    town: Mapped[Area] = relationship(
        lazy="joined",
        primaryjoin="and_(Household.tenant_id == Area.tenant_id, foreign(Household.town_id) == Area.id)",
        viewonly=True,
    )
    village: Mapped[Area] = relationship(
        lazy="joined",
        primaryjoin="and_(Household.tenant_id == Area.tenant_id, foreign(Household.village_id) == Area.id)",
        viewonly=True,
    )
    persons: Mapped[list[Person]] = relationship(
        back_populates="household",
        order_by="Person.position",
        primaryjoin="and_(Household.tenant_id == Person.tenant_id, Household.id == foreign(Person.household_id))",
        viewonly=True,
    )

    def __str__(self) -> str:
        return f"{self.number} {self.head_name}"

    def woman_age(self, on: dt.date) -> int | None:
        return age_on(self.woman_birth_date, on) if self.woman_birth_date else None

    def years_registered(self, on: dt.date) -> int:
        return age_on(self.registered_on, on)


class Person(TenantOwned, Base):
    """A member of a household (家庭成员), identified by the resident ID number."""

    __tablename__ = "persons"
    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = (TOWN_OFFICER, VILLAGE_CONTACT)
    __audit_mask__ = frozenset({"id_number", "phone"})
    __table_args__ = (
        tenant_fk(["household_id"], "households", ["id"]),
        sa.Index("ix_persons_tenant_id_index", "tenant_id", "id_index"),
        sa.Index("ix_persons_tenant_phone_index", "tenant_id", "phone_index"),
        sa.Index("ix_persons_tenant_household", "tenant_id", "household_id"),
        sa.Index("ix_persons_tenant_name", "tenant_id", "name"),
    )

    household_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)
    relationship_: Mapped[Relationship] = mapped_column(
        "relationship", sa.Enum(Relationship, native_enum=False, length=10)
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    id_number: Mapped[str] = mapped_column(Encrypted("id_number"))
    id_index: Mapped[str] = mapped_column(sa.String(64))
    birth_date: Mapped[dt.date]
    gender: Mapped[Gender] = mapped_column(sa.Enum(Gender, native_enum=False, length=6))
    phone: Mapped[str | None] = mapped_column(Encrypted("phone"))
    phone_index: Mapped[str | None] = mapped_column(sa.String(64))
    alive: Mapped[bool] = mapped_column(default=True)
    death_date: Mapped[dt.date | None]
    disability_grade: Mapped[str] = mapped_column(sa.String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    household: Mapped[Household] = relationship(
        back_populates="persons",
        primaryjoin="and_(Household.tenant_id == Person.tenant_id, Household.id == foreign(Person.household_id))",
        viewonly=True,
    )

    def __str__(self) -> str:  # the audit summary: a name, never a number
        return self.name

    @classmethod
    def scope_criteria(cls, user_id: uuid.UUID | None, role: str | None, department_id: Any):
        inner = Household.scope_criteria(user_id, role, department_id)
        if inner is None:
            return None
        return cls.household_id.in_(sa.select(Household.id).where(inner))

    def age(self, on: dt.date) -> int:
        return age_on(self.birth_date, on)


class ChangeRequest(OfHousehold, TenantOwned, Base):
    """A proposed enrolment, change or exit (信息变更申请), confirmed or returned.

    `payload` holds the proposed household and members; resident ID and phone numbers
    in it are sealed (`pii.sealed`: ciphertext, blind index and masked form only)."""

    __tablename__ = "change_requests"
    __table_args__ = (
        tenant_fk(["household_id"], "households", ["id"]),
        tenant_fk(["town_id"], "areas", ["id"]),
        sa.Index("ix_change_requests_tenant_status_at", "tenant_id", "status", "proposed_at"),
        sa.Index("ix_change_requests_tenant_household", "tenant_id", "household_id"),
        sa.Index("ix_change_requests_tenant_town_status", "tenant_id", "town_id", "status"),
    )

    kind: Mapped[RequestKind] = mapped_column(sa.Enum(RequestKind, native_enum=False, length=10))
    status: Mapped[RequestStatus] = mapped_column(
        sa.Enum(RequestStatus, native_enum=False, length=12), default=RequestStatus.pending
    )
    household_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    town_id: Mapped[uuid.UUID]
    summary: Mapped[str] = mapped_column(sa.String(200), default="")
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    evidence_note: Mapped[str] = mapped_column(sa.Text, default="")
    batch: Mapped[str] = mapped_column(sa.String(40), default="")  # one import
    proposed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    proposed_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    decided_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why returned
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # what confirming changed
    row_version: Mapped[int] = mapped_column(default=1)

    def __str__(self) -> str:
        return self.summary


class OfficerTown(TenantOwned, Base):
    """The town a `town_officer` account works for (one each)."""

    __tablename__ = "register_officer_towns"
    __admin__ = False
    __table_args__ = (
        tenant_fk(["town_id"], "areas", ["id"]),
        sa.UniqueConstraint("tenant_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    town_id: Mapped[uuid.UUID]


class ContactVillage(TenantOwned, Base):
    """The village a `village_contact` account serves (one each). Its households are
    assigned within that village (`HouseholdContact`); who may manage it: the lead for
    the district, a town officer for the villages of their own town."""

    __tablename__ = "register_contact_villages"
    __admin__ = False
    __table_args__ = (
        tenant_fk(["village_id"], "areas", ["id"]),
        sa.UniqueConstraint("tenant_id", "user_id"),
        sa.Index("ix_register_contact_villages_tenant_village", "tenant_id", "village_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    village_id: Mapped[uuid.UUID]


class HouseholdContact(TenantOwned, Base):
    """A `village_contact` account assigned to a household (the care issue adds the rest)."""

    __tablename__ = "household_contacts"
    __admin__ = False
    __table_args__ = (
        tenant_fk(["household_id"], "households", ["id"]),
        sa.UniqueConstraint("tenant_id", "user_id", "household_id"),
        sa.Index("ix_household_contacts_tenant_household", "tenant_id", "household_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    household_id: Mapped[uuid.UUID]


def officer_towns(user_id: uuid.UUID | None) -> sa.Select:
    """The town a town officer works for: the scope rules' "rows of their town"."""
    return sa.select(OfficerTown.town_id).where(OfficerTown.user_id == user_id)


def contact_households(user_id: uuid.UUID | None) -> sa.Select:
    """The households a village contact is assigned to: "their households"."""
    return sa.select(HouseholdContact.household_id).where(HouseholdContact.user_id == user_id)


class ImportMapping(TenantOwned, Base):
    """The district's remembered column mapping for Excel imports (field → sheet heading)."""

    __tablename__ = "register_import_mappings"
    __admin__ = False
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(sa.String(40), default="default")
    mapping: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def age_on(born: dt.date, on: dt.date) -> int:
    """Whole years from `born` to `on` (周岁)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# The reader's towns or villages: kept for the request once read (`kernel.memo`).
memo.read_by_every_answer(OfficerTown.__tablename__, ContactVillage.__tablename__)
