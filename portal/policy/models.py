"""A district's policy (实施意见) as data: versions, measures, responsibilities, benefits.

Benefit amounts are never overwritten: a change is a new dated `BenefitValue`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, TenantOwned, department_child, tenant_fk, utcnow
from portal.tenancy.models import Department


class VersionStatus(enum.StrEnum):
    """征求意见稿 / 试行 / 正式 (see `portal.policy.rules.generates_duties`)."""

    in_force = "in_force"  # 正式
    trial = "trial"  # 试行
    draft = "draft"  # 征求意见稿


class ResponsibilityRole(enum.StrEnum):
    lead = "lead"
    cooperating = "cooperating"


class PolicyDocument(TenantOwned, Base):
    """The district's policy line; each issued text is a `PolicyVersion`."""

    __tablename__ = "policy_documents"

    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[PolicyVersion]] = relationship(
        back_populates="document", order_by="PolicyVersion.effective_from"
    )

    def __str__(self) -> str:
        return self.title


class PolicyVersion(TenantOwned, Base):
    __tablename__ = "policy_versions"
    __table_args__ = (
        tenant_fk(["document_id"], "policy_documents", ["id"]),
        sa.Index("ix_policy_versions_tenant_effective", "tenant_id", "effective_from"),
    )

    document_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(sa.String(200))
    doc_number: Mapped[str] = mapped_column(sa.String(80), default="")
    issuers: Mapped[list] = mapped_column(sa.JSON, default=list)
    issued_on: Mapped[dt.date | None]
    effective_from: Mapped[dt.date]
    effective_until: Mapped[dt.date | None]
    supersedes: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[VersionStatus] = mapped_column(
        sa.Enum(VersionStatus, native_enum=False, length=20), default=VersionStatus.in_force
    )
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    # The body the document charges with carrying it out, and its member units (keys).
    lead_department_key: Mapped[str] = mapped_column(sa.String(60), default="")
    member_department_keys: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Values the document does not state: {field: reason} (shown as 推定).
    inferred: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Department kinds of this district beyond the canonical list:
    # [{code, name, name_en, departments: [keys]}].
    department_kinds: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The document's `care:` section as written (contacts, festival visits, doctor
    # contact, check-ups; docs/policy-format.md); the care domain reads it.
    care: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # A draft creates duties only once the district lead adopts it (audited).
    adopted_at: Mapped[dt.datetime | None]
    adopted_by: Mapped[str] = mapped_column(sa.String(120), default="")
    # Once it has expired: the lead's decision whether the district keeps working to it
    # until a new version is loaded ("" undecided, "continue", "stop"; audited). Without
    # "continue" it creates no duties for half-years after `effective_until`.
    after_expiry: Mapped[str] = mapped_column(sa.String(10), default="")
    after_expiry_decided_at: Mapped[dt.datetime | None]
    after_expiry_decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[PolicyDocument] = relationship(back_populates="versions")
    measures: Mapped[list[Measure]] = relationship(
        back_populates="version", order_by="Measure.position"
    )

    def __str__(self) -> str:
        return f"{self.title} {self.doc_number}".strip()

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )


class Measure(TenantOwned, Base):
    """One numbered measure (措施) of a policy version."""

    __tablename__ = "measures"
    __table_args__ = (
        tenant_fk(["version_id"], "policy_versions", ["id"]),
        sa.UniqueConstraint("tenant_id", "version_id", "number"),
    )

    version_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(sa.String(30))
    position: Mapped[int] = mapped_column(default=0)
    category: Mapped[str] = mapped_column(sa.String(30))
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    creates_duty: Mapped[bool] = mapped_column(default=True)
    # measure / general / interpretation / effective_date / repeal: only a measure has duties.
    clause: Mapped[str] = mapped_column(sa.String(20), default="measure")
    # Names no department; its lead is the document-wide lead (not confirmed yet).
    lead_from_document: Mapped[bool] = mapped_column(default=False)
    inferred: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    row_version: Mapped[int] = mapped_column(default=1)

    version: Mapped[PolicyVersion] = relationship(back_populates="measures")
    responsibilities: Mapped[list[MeasureResponsibility]] = relationship(
        back_populates="measure",
        order_by="MeasureResponsibility.position",
        cascade="all, delete-orphan",
    )
    benefits: Mapped[list[BenefitStandard]] = relationship(
        back_populates="measure", order_by="BenefitStandard.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": row_version}

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class MeasureResponsibility(TenantOwned, Base):
    """A department's responsibility for a measure: lead (牵头) or cooperating (配合)."""

    __tablename__ = "measure_responsibilities"
    __table_args__ = department_child(
        "measure_responsibilities", "measure_id", "measures", unique=True, by="-"
    )

    measure_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID]
    role: Mapped[ResponsibilityRole] = mapped_column(
        sa.Enum(ResponsibilityRole, native_enum=False, length=20)
    )
    position: Mapped[int] = mapped_column(default=0)

    measure: Mapped[Measure] = relationship(back_populates="responsibilities")
    department: Mapped[Department] = relationship(
        lazy="joined", overlaps="measure,responsibilities"
    )


class BenefitStandard(TenantOwned, Base):
    """An amount with unit, frequency, eligibility and funding split (扶助标准)."""

    __tablename__ = "benefit_standards"
    __table_args__ = (tenant_fk(["measure_id"], "measures", ["id"]),)

    measure_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(40))
    frequency: Mapped[str] = mapped_column(sa.String(20))
    festivals: Mapped[list] = mapped_column(sa.JSON, default=list)
    amount_is_floor: Mapped[bool] = mapped_column(default=False)
    amount_note: Mapped[str] = mapped_column(sa.Text, default="")
    max_quantity: Mapped[int | None]
    max_quantity_unit: Mapped[str | None] = mapped_column(sa.String(30))
    hours_per_month: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(8, 2))
    eligibility: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    funding_split: Mapped[list] = mapped_column(sa.JSON, default=list)
    funding_split_applies_to: Mapped[str] = mapped_column(sa.String(20), default="")
    funding_note: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: How the benefits engine computes it (`portal/policy/entitlement.py`); {} = not computed.
    entitlement: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    measure: Mapped[Measure] = relationship(back_populates="benefits")
    values: Mapped[list[BenefitValue]] = relationship(
        back_populates="benefit",
        order_by=lambda: BenefitValue.effective_from.asc().nulls_first(),
    )

    def __str__(self) -> str:
        return self.name

    def amount_on(self, day: dt.date) -> decimal.Decimal | None:
        """The latest value started on or before `day`; a value of unknown start applies
        on days before its `in_force_before`."""
        current = [
            v
            for v in self.values
            if (v.effective_from is not None and v.effective_from <= day)
            or (v.effective_from is None and v.in_force_before and day < v.in_force_before)
        ]
        current.sort(key=lambda v: v.effective_from or dt.date.min)
        return current[-1].amount if current else None


class BenefitValue(TenantOwned, Base):
    """A dated amount. Rows are only ever added (see `__immutable__`)."""

    __tablename__ = "benefit_values"
    __table_args__ = (
        tenant_fk(["benefit_id"], "benefit_standards", ["id"]),
        sa.UniqueConstraint("tenant_id", "benefit_id", "effective_from"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )
    __immutable__ = True

    benefit_id: Mapped[uuid.UUID]
    amount: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    # None: the start is unknown (the document only says it applied before a date).
    effective_from: Mapped[dt.date | None]
    in_force_before: Mapped[dt.date | None]
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    benefit: Mapped[BenefitStandard] = relationship(back_populates="values")


class MeetingArrangement(TenantOwned, Base):
    """The district's joint-meeting (联席会议) arrangement, from the policy file."""

    __tablename__ = "meeting_arrangements"
    __table_args__ = (tenant_fk(["office_department_id"], "departments", ["id"]),)

    name: Mapped[str] = mapped_column(sa.String(200))
    cadence: Mapped[str] = mapped_column(sa.String(20), default="semiannual")
    chief_convener: Mapped[str] = mapped_column(sa.String(100), default="")
    conveners: Mapped[list] = mapped_column(sa.JSON, default=list)
    office_department_id: Mapped[uuid.UUID | None]
    member_department_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    inferred: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    row_version: Mapped[int] = mapped_column(default=1)

    office_department: Mapped[Department | None] = relationship(
        primaryjoin="and_(MeetingArrangement.tenant_id == Department.tenant_id, "
        "MeetingArrangement.office_department_id == foreign(Department.id))",
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": row_version}
