"""Joint meetings (联席会议): meetings, agenda, invitations/attendance, department reports,
minutes, decisions (议定事项) and action items (督办事项).

Officer visibility: a meeting and everything hanging off it (agenda, minutes, decisions)
is visible to a dept_officer only when their department is invited; invitations,
department reports, minutes comments and action items are visible only for the
officer's own department. All of this is expressed through `department_criteria`, so
the one scoping hook in `portal.tenancy.scope` enforces it for every query.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.db import Base, DepartmentOwned, TenantOwned, department_child, tenant_fk, utcnow
from portal.tenancy.models import Department


class MeetingKind(enum.StrEnum):
    regular = "regular"
    ad_hoc = "ad_hoc"


class MeetingStatus(enum.StrEnum):
    planned = "planned"
    held = "held"
    cancelled = "cancelled"


class Attendance(enum.StrEnum):
    unknown = "unknown"
    present = "present"
    absent = "absent"
    delegate = "delegate"


class ReportStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"


class MinutesStatus(enum.StrEnum):
    draft = "draft"
    circulated = "circulated"
    finalised = "finalised"


class ActionStatus(enum.StrEnum):
    open = "open"
    done = "done"


def _enum(e: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(e, native_enum=False, length=20)


def _invited(meeting_id_col: sa.ColumnElement, tenant_col: sa.ColumnElement, dept: uuid.UUID):
    """EXISTS an invitation of `dept` to the meeting in `meeting_id_col`."""
    inv = MeetingInvitation.__table__.alias("scope_invitation")
    return (
        sa.select(inv.c.id)
        .where(
            inv.c.tenant_id == tenant_col,
            inv.c.meeting_id == meeting_id_col,
            inv.c.department_id == dept,
        )
        .correlate_except(inv)
        .exists()
    )


class MeetingChild:
    """Rows visible to an officer when their department is invited to the meeting."""

    __department_owned__ = True

    @classmethod
    def department_criteria(cls, department_id: uuid.UUID) -> sa.ColumnElement[bool]:
        return _invited(cls.meeting_id, cls.tenant_id, department_id)  # type: ignore[attr-defined]


class DepartmentOfMeeting(DepartmentOwned):
    """A department's own row under a meeting (its invitation, report, comment, action
    item): officers see their department's rows; the department is loaded with the row."""

    meeting_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID]

    @declared_attr
    def department(cls) -> Mapped[Department]:  # noqa: N805
        return relationship(Department, lazy="joined", viewonly=True)

    @declared_attr
    def meeting(cls) -> Mapped[Meeting]:  # noqa: N805
        return relationship(Meeting, viewonly=True)


class Meeting(TenantOwned, Base):
    """One joint meeting; `year` + `sequence` make its number, e.g. 2026年第2次."""

    __tablename__ = "meetings"
    __department_owned__ = True
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "year", "sequence"),
        sa.UniqueConstraint("tenant_id", "request_key", name="uq_meetings_tenant_id_request_key"),
        sa.Index("ix_meetings_tenant_date", "tenant_id", "meeting_date"),
        sa.Index("ix_meetings_tenant_kind_period", "tenant_id", "kind", "period"),
    )

    kind: Mapped[MeetingKind] = mapped_column(_enum(MeetingKind), default=MeetingKind.regular)
    period: Mapped[str | None] = mapped_column(sa.String(6))  # regular meetings: 2026H2
    year: Mapped[int]
    sequence: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    meeting_date: Mapped[dt.date]
    start_time: Mapped[str] = mapped_column(sa.String(20), default="")  # e.g. 09:00
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    chair: Mapped[str] = mapped_column(sa.String(100), default="")
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.planned
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None]
    # The draft agenda is the lead's until circulated to the invited departments.
    agenda_circulated_at: Mapped[dt.datetime | None]
    # The create form's one-time key: a double submission finds this meeting, not a new one.
    request_key: Mapped[str | None] = mapped_column(sa.String(64))
    row_version: Mapped[int] = mapped_column(default=1)

    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", viewonly=True
    )

    __mapper_args__ = {"version_id_col": row_version}

    @classmethod
    def department_criteria(cls, department_id: uuid.UUID) -> sa.ColumnElement[bool]:
        return _invited(cls.id, cls.tenant_id, department_id)

    @property
    def number(self) -> str:
        return f"{self.year}年第{self.sequence}次"

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"


class AgendaItem(MeetingChild, TenantOwned, Base):
    """One agenda point; `source` says which live-data section drafted it ('' = hand-made)."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        tenant_fk(["meeting_id"], "meetings", ["id"]),
        sa.Index("ix_agenda_items_tenant_meeting", "tenant_id", "meeting_id", "position"),
    )

    meeting_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(300))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(30), default="")

    meeting: Mapped[Meeting] = relationship(viewonly=True)


class MeetingInvitation(TenantOwned, DepartmentOfMeeting, Base):
    """A department invited to a meeting, and its attendance once held."""

    __tablename__ = "meeting_invitations"
    __table_args__ = department_child(
        "meeting_invitations", "meeting_id", "meetings", unique=True, by="department_id"
    )

    attendance: Mapped[Attendance] = mapped_column(_enum(Attendance), default=Attendance.unknown)
    delegate_name: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    # who attended for the department (names as the sign-in sheet has them, 、-separated)
    attendees: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")


class DepartmentReport(TenantOwned, DepartmentOfMeeting, Base):
    """A department's half-year report to a meeting, drafted from its duties."""

    __tablename__ = "department_reports"
    __table_args__ = department_child(
        "department_reports", "meeting_id", "meetings", unique=True, by="department_id"
    )

    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.draft)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    families_reached: Mapped[int] = mapped_column(default=0)
    amount_paid: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    not_delivered: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[uuid.UUID | None]
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}


class Minutes(MeetingChild, TenantOwned, Base):
    """The minutes (会议纪要) body: draft → circulated → finalised (locked)."""

    __tablename__ = "meeting_minutes"
    __table_args__ = (
        tenant_fk(["meeting_id"], "meetings", ["id"]),
        sa.UniqueConstraint("tenant_id", "meeting_id"),
    )

    meeting_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, sanitised on render
    status: Mapped[MinutesStatus] = mapped_column(_enum(MinutesStatus), default=MinutesStatus.draft)
    circulated_at: Mapped[dt.datetime | None]
    finalised_at: Mapped[dt.datetime | None]
    finalised_by_id: Mapped[uuid.UUID | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    last_reopen_reason: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}

    @property
    def locked(self) -> bool:
        return self.status == MinutesStatus.finalised


class MinutesComment(TenantOwned, DepartmentOfMeeting, Base):
    """A department's comment on circulated minutes."""

    __tablename__ = "minutes_comments"
    __table_args__ = department_child("minutes_comments", "meeting_id", "meetings")

    author_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Decision(MeetingChild, TenantOwned, Base):
    """A decision (议定事项) of a meeting, numbered 1, 2, 3 … (一、二、三 in the minutes)."""

    __tablename__ = "decisions"
    __table_args__ = (
        tenant_fk(["meeting_id"], "meetings", ["id"]),
        sa.UniqueConstraint("tenant_id", "meeting_id", "number"),
        sa.UniqueConstraint(
            "tenant_id", "meeting_id", "request_key", name="uq_decisions_request_key"
        ),
    )

    meeting_id: Mapped[uuid.UUID]
    number: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    request_key: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    meeting: Mapped[Meeting] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": row_version}


class ActionItem(TenantOwned, DepartmentOfMeeting, Base):
    """A follow-up (督办事项) of a decision for ONE department; a decision assigned to
    several departments has one row per department, each closed on its own."""

    __tablename__ = "action_items"
    __table_args__ = (
        tenant_fk(["meeting_id"], "meetings", ["id"]),
        tenant_fk(["decision_id"], "decisions", ["id"]),
        tenant_fk(["department_id"], "departments", ["id"]),
        sa.Index(
            "ix_action_items_tenant_department_status", "tenant_id", "department_id", "status"
        ),
        sa.Index("ix_action_items_tenant_status_due", "tenant_id", "status", "due_date"),
        sa.Index("ix_action_items_tenant_meeting", "tenant_id", "meeting_id"),
        sa.Index("ix_action_items_tenant_decision", "tenant_id", "decision_id"),
        tenant_fk(["visit_id"], "care_visits", ["id"]),
        sa.Index("ix_action_items_tenant_visit", "tenant_id", "visit_id"),
    )

    decision_id: Mapped[uuid.UUID]
    text: Mapped[str] = mapped_column(sa.Text)
    due_date: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.open)
    progress_note: Mapped[str] = mapped_column(sa.Text, default="")
    closing_note: Mapped[str] = mapped_column(sa.Text, default="")
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[uuid.UUID | None]
    # the care visit whose follow-up this item takes up (portal/meetings/care_followups.py)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    decision: Mapped[Decision] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": row_version}

    def is_overdue(self, on: dt.date) -> bool:
        return self.status == ActionStatus.open and self.due_date < on
