"""在线用户: one row per signed-in browser session, for the lead's and operator's lists.

Like `users`, the table is global with a nullable `tenant_id` (operators have none), so
the scoping hook shows a lead only their district's sessions. Sign-in, sign-out and
force sign-out are audited as events; the rows themselves are bookkeeping (a heartbeat
at most once a minute) and are not audited row by row.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import Base, TenantScopedGlobal, new_id, utcnow


class UserSession(TenantScopedGlobal, Base):
    __tablename__ = "user_sessions"
    __audit__ = False
    __table_args__ = (
        sa.Index("ix_user_sessions_tenant_open", "tenant_id", "ended_at", "last_seen_at"),
        sa.Index("ix_user_sessions_user_open", "user_id", "ended_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    signed_in_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str] = mapped_column(sa.String(30), default="")

    user: Mapped[User] = relationship(lazy="joined")
