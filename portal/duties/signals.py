"""The duties domain's answers to signals from the layers below it.

Policy (a lower layer) never calls duty generation: it sends `policy_changed` when a
district's policy changes and the platform sends `tenant_onboarded` when a new district's
policy is loaded. Both regenerate the current half-year's duties in the sender's
transaction, as the system, and return the `GenerationResult` so the sender can tell
the lead what changed. The platform's console asks for counts through
`tenant_statistics`. Connected when the `signals` domain hook imports this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from portal.duties.generation import GenerationResult, generate_duties
from portal.kernel import signals
from portal.kernel.grants import SYSTEM
from portal.kernel.periods import Period
from portal.tenancy import scope


@contextlib.contextmanager
def _district(tenant: Any) -> Iterator[None]:
    """The whole district in scope (a department scope would hide other duties)."""
    current = scope.current()
    if current.tenant_id == tenant.id and current.department_id is None:
        yield
        return
    with scope.tenant_scope(tenant.id):
        yield


def generate_as_system(period: Period | str | None = None) -> GenerationResult:
    """The current (or given) half-year's duties of the tenant in scope, as the system."""
    return generate_duties(SYSTEM, period or Period.current())


def on_policy_changed(tenant: Any, **_kwargs: Any) -> GenerationResult:
    """A measure or version changed: the current half-year's duties follow at once
    (signed-off duties are never touched)."""
    with _district(tenant):
        return generate_as_system()


def on_tenant_onboarded(tenant: Any, **_kwargs: Any) -> GenerationResult:
    """A new district's policy is loaded: its current half-year's duties are generated."""
    with _district(tenant):
        return generate_as_system()


def on_tenant_statistics(_sender: Any, tenant_ids: list[Any], **_kwargs: Any) -> dict:
    """The platform's counts of the current half-year: {tenant_id: {duties_total,
    duties_accepted}} for the given districts (the caller holds a cross-tenant scope)."""
    import sqlalchemy as sa

    from portal.duties.models import Duty, DutyStatus
    from portal.extensions import db

    if not tenant_ids:
        return {}
    accepted = sa.func.sum(sa.case((Duty.status == DutyStatus.accepted, 1), else_=0))
    rows = db.session.execute(
        sa.select(Duty.tenant_id, sa.func.count(Duty.id), accepted)
        .where(Duty.tenant_id.in_(tenant_ids), Duty.period == Period.current().code)
        .group_by(Duty.tenant_id)
    ).all()
    return {
        tenant_id: {"duties_total": int(total), "duties_accepted": int(done or 0)}
        for tenant_id, total, done in rows
    }


signals.policy_changed.connect(on_policy_changed)
signals.tenant_onboarded.connect(on_tenant_onboarded)
signals.tenant_statistics.connect(on_tenant_statistics)
