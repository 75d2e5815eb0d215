"""站内消息 (a message to one user) and 通知公告 (a notice to a whole district).

Both are tenant-owned: `tenant_id` leads every key and row-level security applies. A
notice the operator posts to all districts is one row per district (`broadcast_id`
ties them together), so every district's rows stay in its own scope and audit chain.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantOwned, utcnow


class MessageKind(enum.StrEnum):
    duty_returned = "duty_returned"
    duty_accepted = "duty_accepted"
    action_item_assigned = "action_item_assigned"
    meeting_invited = "meeting_invited"
    duty_due_soon = "duty_due_soon"  # the daily job: due within 7 days, not signed off
    duty_overdue = "duty_overdue"  # the daily job: past its due date, not signed off
    report_requested = "report_requested"  # a meeting asks the department for its report


class Message(TenantOwned, Base):
    """One user's message. Created as a consequence of an audited event (the duty's
    return, the meeting's invitation), so rows are not audited one by one; reading them
    is recorded explicitly (`message.read`). Personal: never listed in the back office,
    where a lead would read every officer's messages."""

    __tablename__ = "messages"
    __admin__ = False
    __audit__ = False
    __table_args__ = (
        sa.Index("ix_messages_tenant_user_read", "tenant_id", "user_id", "read_at"),
        sa.Index("ix_messages_tenant_user_created", "tenant_id", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[MessageKind] = mapped_column(sa.Enum(MessageKind, native_enum=False, length=30))
    # What the message is about (rendered in the reader's language at display time).
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    ref_type: Mapped[str] = mapped_column(sa.String(30), default="")
    ref_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    actor_name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class NoticeAudience(enum.StrEnum):
    district = "district"  # posted by the district's lead
    platform = "platform"  # posted by an operator to every district


class Notice(TenantOwned, Base):
    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_tenant_posted", "tenant_id", "posted_at"),)

    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    audience: Mapped[NoticeAudience] = mapped_column(
        sa.Enum(NoticeAudience, native_enum=False, length=20), default=NoticeAudience.district
    )
    broadcast_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    posted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    posted_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]

    def __str__(self) -> str:
        return self.title


class NoticeRead(TenantOwned, Base):
    """Who has opened which notice (the per-user read state of 通知公告). Bookkeeping of a
    read, like the session rows: not audited row by row, never shown to others."""

    __tablename__ = "notice_reads"
    __admin__ = False
    __audit__ = False
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "notice_id", "user_id", name="uq_notice_reads_user"),
        sa.Index("ix_notice_reads_tenant_user", "tenant_id", "user_id"),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    read_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
