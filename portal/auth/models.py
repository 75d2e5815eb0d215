"""Users, their single role, personal access tokens and the sign-in throttle."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, TenantScopedGlobal, new_id, utcnow
from portal.kernel import memo
from portal.kernel.grants import Role  # noqa: F401 - re-exported for the models' users
from portal.tenancy.models import Department, Tenant


class User(TenantScopedGlobal, UserMixin, Base):
    """A person signing in. Operators have no tenant; everyone else exactly one."""

    __tablename__ = "users"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]
        ),
        sa.CheckConstraint(
            "(role = 'platform_operator') = (tenant_id IS NULL)", name="operator_has_no_tenant"
        ),
        sa.CheckConstraint(
            "(role = 'dept_officer') = (department_id IS NOT NULL)", name="officer_has_department"
        ),
    )
    __audit_secret__ = frozenset({"password_hash", "password_history"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # JSON list of the earlier password hashes, newest first (passwords.HISTORY_SIZE).
    password_history: Mapped[str | None] = mapped_column(sa.Text())
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=30))
    department_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(
        lazy="joined",
        primaryjoin="and_(User.tenant_id == Department.tenant_id, "
        "User.department_id == foreign(Department.id))",
        viewonly=True,
    )

    def __str__(self) -> str:
        return f"{self.display_name} ({self.username})"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def is_operator(self) -> bool:
        return self.role == Role.platform_operator


class ApiToken(Base):
    """A personal access token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"
    __audit_secret__ = frozenset({"token_hash"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Sign-in attempts by username (known or not) and address: the throttle's memory.

    Kept in the database, so every worker process and server sees the same counts."""

    __tablename__ = "login_attempts"
    __audit__ = False
    __table_args__ = (sa.Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(sa.String(80))
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# The signed-in user, loaded before any kept answer is computed (`kernel.memo`).
memo.read_by_every_answer(User.__tablename__)
# ... but no kept answer shows when the user last signed in (set by every sign-in).
memo.shown_by_no_answer(User.__tablename__, "last_login_at")
