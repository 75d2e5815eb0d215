"""Tenant lifecycle and department roster services (shared by console, CLI and onboarding)."""

from __future__ import annotations

import sqlalchemy as sa

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import DEPARTMENT_KINDS, Department, DepartmentKind, Tenant, TenantStatus


class TenantError(ValueError):
    pass


def ensure_department_kinds() -> None:
    """Insert or refresh the canonical department kinds (a shared reference table)."""
    existing = {k.code: k for k in db.session.execute(sa.select(DepartmentKind)).scalars()}
    for order, (code, zh, en) in enumerate(DEPARTMENT_KINDS):
        kind = existing.get(code)
        if kind is None:
            db.session.add(DepartmentKind(code=code, name_zh=zh, name_en=en, sort_order=order))
        elif (kind.name_zh, kind.name_en, kind.sort_order) != (zh, en, order):
            kind.name_zh, kind.name_en, kind.sort_order = zh, en, order


def get_tenant(slug: str) -> Tenant:
    tenant = db.session.execute(sa.select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is None:
        raise TenantError(f"no tenant with slug {slug!r}")
    return tenant


def set_status(tenant: Tenant, status: TenantStatus, reason: str = "") -> None:
    """Every lifecycle change is recorded in the platform chain."""
    if tenant.status == status:
        return
    before = tenant.status
    tenant.status = status
    tenant.status_changed_at = utcnow()
    with scope.cross_tenant("tenant lifecycle"):
        trail.record(
            db.session,
            f"tenant_{status.value}",
            tenant_id=trail.PLATFORM_CHAIN,
            entity_type="Tenant",
            entity_id=tenant.id,
            summary=tenant.slug,
            data={"status": {"before": before.value, "after": status.value}, "reason": reason},
        )
        db.session.commit()


def upsert_department(
    tenant: Tenant, key: str, kind_code: str, name: str, order: int
) -> Department:
    """Used inside the tenant's scope; returns the existing row when nothing changed."""
    dept = db.session.execute(sa.select(Department).filter_by(key=key)).scalar_one_or_none()
    if dept is None:
        dept = Department(
            tenant_id=tenant.id, key=key, kind_code=kind_code, name=name, sort_order=order
        )
        db.session.add(dept)
    else:
        if dept.kind_code != kind_code:
            dept.kind_code = kind_code
        if dept.name != name:
            dept.name = name
        if dept.sort_order != order:
            dept.sort_order = order
    return dept
