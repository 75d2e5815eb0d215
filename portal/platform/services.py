"""Operator-side services. Cross-tenant reads say so explicitly (`cross_tenant`)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant


@dataclass
class TenantRow:
    tenant: Tenant
    departments: int
    users: int
    last_sign_in: object


def tenant_overview() -> list[TenantRow]:
    """Counts and health per tenant, in a constant number of queries."""
    with scope.cross_tenant("platform console: counts per tenant"):
        tenants = db.session.execute(sa.select(Tenant).order_by(Tenant.name)).scalars().all()
        dept_counts = dict(
            db.session.execute(
                sa.select(Department.tenant_id, sa.func.count()).group_by(Department.tenant_id)
            ).all()
        )
        user_rows = db.session.execute(
            sa.select(User.tenant_id, sa.func.count(), sa.func.max(User.last_login_at))
            .where(User.tenant_id.is_not(None))
            .group_by(User.tenant_id)
        ).all()
    users = {r[0]: (r[1], r[2]) for r in user_rows}
    return [
        TenantRow(
            t,
            dept_counts.get(t.id, 0),
            users.get(t.id, (0, None))[0],
            users.get(t.id, (0, None))[1],
        )
        for t in tenants
    ]
