"""Operator-side services: the tenant overview, lifecycle and district accounts.

Cross-tenant reads say so explicitly (`cross_tenant`) and only ever aggregate: the
console shows counts and health of a district, never its business records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal.audit import trail
from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.db import utcnow
from portal.extensions import db
from portal.platform import adapters
from portal.tenancy import scope
from portal.tenancy.models import Department, DepartmentKind, Tenant, TenantStatus

RETENTION_DAYS = 30

S = TenantStatus
TRANSITIONS: dict[TenantStatus, frozenset[TenantStatus]] = {
    S.provisioning: frozenset({S.active}),
    S.active: frozenset({S.suspended, S.pending_deletion}),
    S.suspended: frozenset({S.active, S.pending_deletion}),
    S.pending_deletion: frozenset({S.suspended, S.purged}),  # restore goes to suspended
    S.purged: frozenset(),
}


class LifecycleError(ValueError):
    """A transition the lifecycle does not allow; message is for the operator."""


# ---------------------------------------------------------------- overview


@dataclass
class TenantRow:
    tenant: Tenant
    departments: int
    users: int
    last_sign_in: dt.datetime | None
    duties_total: int = 0
    duties_accepted: int = 0
    last_meeting: Any = None
    policy_until: dt.date | None = None
    has_policy: bool = False

    @property
    def completion(self) -> int | None:
        if not self.duties_total:
            return None
        return round(100 * self.duties_accepted / self.duties_total)

    @property
    def purge_after(self) -> dt.datetime | None:
        if self.tenant.status != TenantStatus.pending_deletion:
            return None
        return self.tenant.status_changed_at + dt.timedelta(days=RETENTION_DAYS)


def _meeting_model() -> tuple[Any, Any, Any] | None:
    """The joint-meeting model, its date column and a "held" condition, once meetings exist."""
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if cls.__name__ not in ("JointMeeting", "Meeting") or not getattr(
            cls, "__tenant_owned__", False
        ):
            continue
        for name in ("meeting_date", "held_on", "held_at", "date", "starts_at", "scheduled_at"):
            col = getattr(cls, name, None)
            if col is not None:
                held = sa.true()
                status = getattr(cls, "status", None)
                if status is not None and "held" in getattr(status.type, "enums", ()):
                    held = status == "held"
                return cls, col, held
    return None


def tenant_overview(
    *,
    search: str = "",
    status: TenantStatus | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> list[TenantRow]:
    """Counts and health per tenant in a constant number of aggregate queries (6 or 7)."""
    return tenant_page(search=search, status=status, page=page, per_page=per_page)[0]


def tenant_page(
    *,
    search: str = "",
    status: TenantStatus | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> tuple[list[TenantRow], int]:
    """One page of the tenant list and the number of matching tenants."""
    from portal.duties.models import Duty, DutyStatus
    from portal.policy.models import PolicyVersion, VersionStatus

    period = adapters.current_period()
    with scope.cross_tenant("platform console: counts per tenant"):
        q = sa.select(Tenant)
        if status is not None:
            q = q.where(Tenant.status == status)
        if search:
            like = f"%{search.strip()}%"
            q = q.where(
                Tenant.name.like(like)
                | Tenant.slug.like(like)
                | Tenant.province.like(like)
                | Tenant.name_en.like(like)
            )
        total = db.session.execute(
            sa.select(sa.func.count()).select_from(q.subquery())
        ).scalar_one()
        q = q.order_by(Tenant.province, Tenant.name, Tenant.slug)
        if per_page:
            q = q.limit(per_page).offset(max(page - 1, 0) * per_page)
        tenants = db.session.execute(q).scalars().all()
        ids = [t.id for t in tenants]
        if not ids:
            return [], total
        dept_counts = dict(
            db.session.execute(
                sa.select(Department.tenant_id, sa.func.count())
                .where(Department.active.is_(True), Department.tenant_id.in_(ids))
                .group_by(Department.tenant_id)
            ).all()
        )
        user_rows = db.session.execute(
            sa.select(User.tenant_id, sa.func.count(), sa.func.max(User.last_login_at))
            .where(User.tenant_id.in_(ids), User.active.is_(True))
            .group_by(User.tenant_id)
        ).all()
        duty_rows = db.session.execute(
            sa.select(
                Duty.tenant_id,
                sa.func.count(),
                sa.func.sum(sa.case((Duty.status == DutyStatus.accepted, 1), else_=0)),
            )
            .where(Duty.period == period, Duty.tenant_id.in_(ids))
            .group_by(Duty.tenant_id)
        ).all()
        version_rows = db.session.execute(
            sa.select(
                PolicyVersion.tenant_id, PolicyVersion.effective_from, PolicyVersion.effective_until
            ).where(
                PolicyVersion.status == VersionStatus.in_force, PolicyVersion.tenant_id.in_(ids)
            )
        ).all()
        meetings: dict[uuid.UUID, Any] = {}
        found = _meeting_model()
        if found is not None:
            model, col, held = found
            meetings = dict(
                db.session.execute(
                    sa.select(model.tenant_id, sa.func.max(col))
                    .where(model.tenant_id.in_(ids), held)
                    .group_by(model.tenant_id)
                ).all()
            )
    users = {r[0]: (r[1], r[2]) for r in user_rows}
    duties = {r[0]: (r[1], int(r[2] or 0)) for r in duty_rows}
    latest: dict[uuid.UUID, tuple[dt.date, dt.date | None]] = {}
    for tenant_id, start, until in version_rows:
        if tenant_id not in latest or start >= latest[tenant_id][0]:
            latest[tenant_id] = (start, until)
    rows = [
        TenantRow(
            tenant=t,
            departments=dept_counts.get(t.id, 0),
            users=users.get(t.id, (0, None))[0],
            last_sign_in=users.get(t.id, (0, None))[1],
            duties_total=duties.get(t.id, (0, 0))[0],
            duties_accepted=duties.get(t.id, (0, 0))[1],
            last_meeting=meetings.get(t.id),
            policy_until=latest.get(t.id, (None, None))[1],
            has_policy=t.id in latest,
        )
        for t in tenants
    ]
    return rows, total


def get_tenant(slug: str, *, include_purged: bool = True) -> Tenant | None:
    with scope.cross_tenant("platform: tenant by slug"):
        tenant = db.session.execute(sa.select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is not None and not include_purged and tenant.status == TenantStatus.purged:
        return None
    return tenant


# ---------------------------------------------------------------- lifecycle


def _record_platform(action: str, tenant: Tenant, data: dict | None = None) -> None:
    trail.record(
        db.session,
        action,
        tenant_id=trail.PLATFORM_CHAIN,
        entity_type="Tenant",
        entity_id=tenant.id,
        summary=tenant.slug,
        data=data or {},
    )


def transition(tenant: Tenant, target: TenantStatus, reason: str = "") -> None:
    """Move a tenant along its lifecycle; every change is audited in the platform chain."""
    if target == TenantStatus.purged:
        raise LifecycleError("purge needs purge_tenant() with the slug typed to confirm")
    if target not in TRANSITIONS[tenant.status]:
        raise LifecycleError(
            f"{tenant.slug}: cannot go from {tenant.status.value} to {target.value}"
        )
    before = tenant.status
    with scope.cross_tenant("tenant lifecycle"):
        tenant.status = target
        tenant.status_changed_at = utcnow()
        _record_platform(
            f"tenant_{target.value}",
            tenant,
            {"status": {"before": before.value, "after": target.value}, "reason": reason},
        )
        db.session.commit()


# Operator actions: (the state they start from, the state they lead to).
ACTIONS: dict[str, tuple[frozenset[TenantStatus], TenantStatus]] = {
    "activate": (frozenset({S.provisioning}), S.active),
    "resume": (frozenset({S.suspended}), S.active),
    "suspend": (frozenset({S.active}), S.suspended),
    "delete": (frozenset({S.active, S.suspended}), S.pending_deletion),
    "restore": (frozenset({S.pending_deletion}), S.suspended),
}


def apply_action(tenant: Tenant, action: str, reason: str = "") -> None:
    """A named operator action (console, API, CLI); refused unless it fits the current state."""
    if action not in ACTIONS:
        raise LifecycleError(f"unknown action {action!r}")
    sources, target = ACTIONS[action]
    if tenant.status not in sources:
        raise LifecycleError(f"{tenant.slug}: cannot {action} when {tenant.status.value}")
    transition(tenant, target, reason or ("restored" if action == "restore" else ""))


def restore(tenant: Tenant) -> None:
    """Undo a deletion request within the retention window; the tenant comes back suspended."""
    if tenant.status != TenantStatus.pending_deletion:
        raise LifecycleError(f"{tenant.slug} is not pending deletion")
    transition(tenant, TenantStatus.suspended, reason="restored")


def _tenant_tables() -> list[sa.Table]:
    """Every table holding tenant rows, parents first (the audit chain excluded)."""
    return [
        t
        for t in db.Model.metadata.sorted_tables
        if "tenant_id" in t.c and t.name not in ("audit_events", "audit_chain_heads")
    ]


def _evidence_paths(tenant_id: uuid.UUID) -> list[Path]:
    from portal.duties.models import EvidenceFile

    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    table = EvidenceFile.__table__
    keys = db.session.execute(
        sa.select(table.c.storage_key).where(table.c.tenant_id == tenant_id)
    ).scalars()
    out = []
    for key in keys:
        path = (root / key).resolve()
        if path.is_relative_to(root) and path.is_file():
            out.append(path)
    return out


def purge_tenant(tenant: Tenant, typed_slug: str, *, expired: bool = False) -> dict[str, int]:
    """Delete all of a tenant's business data and users, keeping its row and audit chain.

    Only from pending deletion, and only when the operator typed the slug. Rows are
    deleted with Core statements (one per table) — the per-row audit capture would
    add thousands of events to a chain nobody may read any more — and the counts
    go into one `tenant_purged` event on the platform chain.
    """
    if tenant.status != TenantStatus.pending_deletion:
        raise LifecycleError(f"{tenant.slug}: only a tenant pending deletion can be purged")
    if typed_slug.strip() != tenant.slug:
        raise LifecycleError("the typed slug does not match; nothing was purged")
    counts: dict[str, int] = {}
    with scope.cross_tenant("tenant purge"):
        files = _evidence_paths(tenant.id)
        conn = db.session.connection()
        for table in reversed(_tenant_tables()):
            if table.name == "tenants":
                continue
            result = conn.execute(table.delete().where(table.c.tenant_id == tenant.id))
            if result.rowcount:
                counts[table.name] = result.rowcount
        before = tenant.status
        tenant.status = TenantStatus.purged
        tenant.status_changed_at = utcnow()
        _record_platform(
            "tenant_purged",
            tenant,
            {
                "status": {"before": before.value, "after": "purged"},
                "rows": counts,
                "files": len(files),
                "expired": expired,
            },
        )
        db.session.commit()
    db.session.expire_all()
    for path in files:
        path.unlink(missing_ok=True)
    return counts


def purge_expired(now: dt.datetime | None = None) -> list[str]:
    """Purge tenants pending deletion for longer than the retention window."""
    cutoff = (now or utcnow()) - dt.timedelta(days=RETENTION_DAYS)
    with scope.cross_tenant("purge expired tenants"):
        due = (
            db.session.execute(
                sa.select(Tenant).where(
                    Tenant.status == TenantStatus.pending_deletion,
                    Tenant.status_changed_at < cutoff,
                )
            )
            .scalars()
            .all()
        )
    for tenant in due:
        purge_tenant(tenant, tenant.slug, expired=True)
    return [t.slug for t in due]


def export_configuration(tenant: Tenant) -> dict:
    """The district's configuration in the policy-file format (audited)."""
    with scope.tenant_scope(tenant.id, read_only=False):
        data = adapters.export_policy(tenant)
    with scope.cross_tenant("policy export"):
        _record_platform("tenant_config_exported", tenant)
        db.session.commit()
    return data


# ---------------------------------------------------------------- accounts


class AccountError(ValueError):
    pass


def tenant_users(tenant: Tenant, role: Role | None = None) -> list[User]:
    with scope.tenant_scope(tenant.id):
        q = sa.select(User).order_by(User.role, User.username)
        if role is not None:
            q = q.where(User.role == role)
        return list(db.session.execute(q).scalars().all())


def create_account(
    tenant: Tenant,
    *,
    username: str,
    display_name: str,
    role: Role,
    department_key: str | None = None,
) -> tuple[User, str]:
    """A district account with a temporary password that must be changed at first sign-in."""
    from portal.auth.services import create_user
    from portal.platform.onboarding import USERNAME_RE, temporary_password

    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError("username")
    if role == Role.platform_operator:
        raise AccountError("role")
    with scope.cross_tenant("username is unique platform-wide"):
        if db.session.execute(sa.select(User.id).filter_by(username=username)).first():
            raise AccountError("username_taken")
    password = temporary_password()
    with scope.tenant_scope(tenant.id):
        department_id = None
        if role == Role.dept_officer:
            dept = db.session.execute(
                sa.select(Department).filter_by(key=department_key or "", active=True)
            ).scalar_one_or_none()
            if dept is None:
                raise AccountError("department")
            department_id = dept.id
        user = create_user(
            username=username,
            display_name=display_name.strip()[:80] or username,
            password=password,
            role=role,
            tenant_id=tenant.id,
            department_id=department_id,
            must_change_password=True,
        )
        db.session.flush()
        trail.record(
            db.session,
            "account_created",
            entity_type="User",
            entity_id=user.id,
            summary=username,
            data={"role": role.value},
        )
        _platform_echo("account_created", tenant, user)
        _commit_account_change()
    return user, password


def _platform_echo(action: str, tenant: Tenant, user: User) -> None:
    """Operator actions on accounts are also recorded in the platform chain."""
    if trail.current_actor().role == Role.platform_operator.value:
        trail.record(
            db.session,
            action,
            tenant_id=trail.PLATFORM_CHAIN,
            entity_type="User",
            entity_id=user.id,
            summary=f"{tenant.slug}/{user.username}",
        )


def _commit_account_change() -> None:
    """Flush in the tenant's scope, then commit where both chains may be written."""
    db.session.flush()
    with scope.cross_tenant("account change: tenant and platform chains"):
        db.session.commit()


def set_account_active(tenant: Tenant, user: User, active: bool) -> None:
    with scope.tenant_scope(tenant.id):
        if user.tenant_id != tenant.id:
            raise AccountError("not_found")
        if user.active == active:
            return
        user.active = active
        user.session_version += 1  # ends any open session
        action = "account_reactivated" if active else "account_deactivated"
        trail.record(
            db.session, action, entity_type="User", entity_id=user.id, summary=user.username
        )
        _platform_echo(action, tenant, user)
        _commit_account_change()


def reset_password(tenant: Tenant, user: User) -> str:
    """A new temporary password; the user must change it at the next sign-in."""
    from portal.platform.onboarding import temporary_password

    password = temporary_password()
    with scope.tenant_scope(tenant.id):
        if user.tenant_id != tenant.id:
            raise AccountError("not_found")
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.session_version += 1
        trail.record(
            db.session,
            "password_reset",
            entity_type="User",
            entity_id=user.id,
            summary=user.username,
        )
        _platform_echo("password_reset", tenant, user)
        _commit_account_change()
    return password


def get_user(tenant: Tenant, user_id: uuid.UUID) -> User | None:
    with scope.tenant_scope(tenant.id):
        return db.session.execute(sa.select(User).filter_by(id=user_id)).scalar_one_or_none()


# ---------------------------------------------------------------- departments


def departments(tenant: Tenant) -> list[Department]:
    with scope.tenant_scope(tenant.id):
        return list(
            db.session.execute(
                sa.select(Department).order_by(Department.active.desc(), Department.sort_order)
            )
            .scalars()
            .all()
        )


def department_kinds() -> list[DepartmentKind]:
    return list(
        db.session.execute(sa.select(DepartmentKind).order_by(DepartmentKind.sort_order))
        .scalars()
        .all()
    )


def create_department(tenant: Tenant, key: str, kind_code: str, name: str) -> Department:
    import re

    key, name = key.strip(), name.strip()
    if not re.match(r"^[a-z][a-z0-9_]{1,59}$", key):
        raise AccountError("key")
    if not name or len(name) > 120:
        raise AccountError("name")
    if db.session.get(DepartmentKind, kind_code) is None:
        raise AccountError("kind")
    with scope.tenant_scope(tenant.id):
        if db.session.execute(sa.select(Department.id).filter_by(key=key)).first():
            raise AccountError("key_taken")
        order = db.session.execute(sa.select(sa.func.count(Department.id))).scalar_one()
        dept = Department(key=key, kind_code=kind_code, name=name, sort_order=order)
        db.session.add(dept)
        db.session.commit()
    return dept


def set_department_active(tenant: Tenant, department_id: uuid.UUID, active: bool) -> Department:
    with scope.tenant_scope(tenant.id):
        dept = db.session.execute(
            sa.select(Department).filter_by(id=department_id)
        ).scalar_one_or_none()
        if dept is None:
            raise AccountError("not_found")
        if dept.active != active:
            dept.active = active
            db.session.commit()
    return dept
