"""The duties domain's answer to the platform's `tenant_statistics` question."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel import signals
from portal.kernel.periods import Period


@signals.tenant_statistics.connect
def duty_statistics(_sender: Any, tenant_ids: list[uuid.UUID], **_kw: Any) -> dict:
    """This half-year's duties and how many were accepted, per tenant (counts only).

    Runs inside the asker's explicit cross-tenant scope."""
    rows = db.session.execute(
        sa.select(
            Duty.tenant_id,
            sa.func.count(),
            sa.func.sum(sa.case((Duty.status == DutyStatus.accepted, 1), else_=0)),
        )
        .where(Duty.period == Period.current().code, Duty.tenant_id.in_(tenant_ids))
        .group_by(Duty.tenant_id)
    ).all()
    return {
        tenant_id: {"duties_total": int(total), "duties_accepted": int(accepted or 0)}
        for tenant_id, total, accepted in rows
    }


@signals.tenant_onboarded.connect
def duties_for_new_tenant(tenant: Any, **_kw: Any) -> Any:
    """A new district's duties of the current half-year, from the policy just loaded.

    Runs inside onboarding's tenant scope and transaction."""
    from portal.duties.services import generate_duties

    return generate_duties(Period.current().code)
