"""Duties (职责): one department's responsibility for one measure in one half-year period.

Status (workflow) and assessment (the officer's judgement of delivery) are separate.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import (
    Base,
    DepartmentOwned,
    StoredFile,
    TenantOwned,
    department_child,
    tenant_fk,
    utcnow,
)
from portal.policy.models import Measure, ResponsibilityRole
from portal.tenancy.models import Department


class DutyStatus(enum.StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"


class Assessment(enum.StrEnum):
    fully = "fully"
    partly = "partly"
    not_delivered = "not_delivered"
    not_applicable = "not_applicable"


class Duty(TenantOwned, DepartmentOwned, Base):
    __tablename__ = "duties"
    __table_args__ = (
        tenant_fk(["measure_id"], "measures", ["id"]),
        tenant_fk(["department_id"], "departments", ["id"]),
        sa.UniqueConstraint("tenant_id", "period", "department_id", "measure_number"),
        sa.Index("ix_duties_tenant_period_department", "tenant_id", "period", "department_id"),
        sa.Index("ix_duties_tenant_period_status", "tenant_id", "period", "status"),
        sa.Index(
            "ix_duties_tenant_department_status_due",
            "tenant_id",
            "department_id",
            "status",
            "due_date",
        ),
    )

    period: Mapped[str] = mapped_column(sa.String(6))  # e.g. 2026H2
    department_id: Mapped[uuid.UUID]
    measure_id: Mapped[uuid.UUID]
    measure_number: Mapped[str] = mapped_column(sa.String(30))  # stable across policy versions
    role: Mapped[ResponsibilityRole] = mapped_column(
        sa.Enum(ResponsibilityRole, native_enum=False, length=20)
    )
    due_date: Mapped[dt.date]
    status: Mapped[DutyStatus] = mapped_column(
        sa.Enum(DutyStatus, native_enum=False, length=20), default=DutyStatus.not_started
    )
    assessment: Mapped[Assessment | None] = mapped_column(
        sa.Enum(Assessment, native_enum=False, length=20)
    )
    assessment_reason: Mapped[str] = mapped_column(sa.Text, default="")
    sign_off_statement: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None]
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    measure: Mapped[Measure] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined", overlaps="measure")
    entries: Mapped[list[ProgressEntry]] = relationship(
        back_populates="duty", order_by="ProgressEntry.work_date"
    )

    __mapper_args__ = {"version_id_col": row_version}

    def __str__(self) -> str:
        return f"{self.period} {self.measure_number} {self.department_id}"

    @property
    def signed_off(self) -> bool:
        return self.status in (DutyStatus.submitted, DutyStatus.accepted)


class ProgressEntry(TenantOwned, DepartmentOwned, Base):
    """What an officer logged against a duty (工作记录)."""

    __tablename__ = "progress_entries"
    __table_args__ = department_child("progress_entries", "duty_id", "duties")

    duty_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID]
    work_date: Mapped[dt.date]
    narrative: Mapped[str] = mapped_column(sa.Text)
    families_reached: Mapped[int] = mapped_column(default=0)
    amount_paid: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    duty: Mapped[Duty] = relationship(back_populates="entries")
    evidence: Mapped[list[EvidenceFile]] = relationship(back_populates="entry")

    __mapper_args__ = {"version_id_col": row_version}

    def __str__(self) -> str:
        return f"{self.work_date} {self.narrative[:40]}"


class EvidenceFile(TenantOwned, DepartmentOwned, StoredFile, Base):
    """An uploaded file backing a progress entry; the content hash is kept."""

    __tablename__ = "evidence_files"
    __table_args__ = department_child("evidence_files", "entry_id", "progress_entries")

    entry_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID]
    effective_date: Mapped[dt.date | None]
    uploaded_by_id: Mapped[uuid.UUID | None]
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entry: Mapped[ProgressEntry] = relationship(back_populates="evidence")


class DutyReviewRecord(TenantOwned, DepartmentOwned, Base):
    """History of a duty's sign-off: submitted, accepted, returned, invalidated."""

    __tablename__ = "duty_review_records"
    __table_args__ = (
        tenant_fk(["duty_id"], "duties", ["id"]),
        sa.Index("ix_duty_review_records_tenant_duty", "tenant_id", "duty_id"),
    )

    duty_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[uuid.UUID | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
