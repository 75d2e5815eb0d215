"""The register's answer to the platform's `tenant_statistics` question: counts only.

Operators never see a household or a person; the platform console shows how many each
district holds (households and persons in the register, changes waiting for
confirmation). The platform asks through the signal, so it never imports this domain.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.kernel import signals
from portal.register.models import (
    ChangeRequest,
    Household,
    HouseholdStatus,
    Person,
    RequestStatus,
)


def _per_tenant(stmt: sa.Select) -> dict[uuid.UUID, int]:
    return {tenant_id: int(n) for tenant_id, n in db.session.execute(stmt).all()}


@signals.tenant_statistics.connect
def register_statistics(_sender: Any, tenant_ids: list[uuid.UUID], **_kw: Any) -> dict:
    """{tenant_id: {households, persons, pending_changes}}: households and persons in the
    register (在册), change requests awaiting confirmation. Runs inside the asker's
    explicit cross-tenant scope; three grouped counts whatever the number of tenants."""
    if not tenant_ids:
        return {}
    households = _per_tenant(
        sa.select(Household.tenant_id, sa.func.count())
        .where(Household.tenant_id.in_(tenant_ids), Household.status == HouseholdStatus.registered)
        .group_by(Household.tenant_id)
    )
    persons = _per_tenant(
        sa.select(Person.tenant_id, sa.func.count())
        .join(
            Household,
            sa.and_(Household.tenant_id == Person.tenant_id, Household.id == Person.household_id),
        )
        .where(Person.tenant_id.in_(tenant_ids), Household.status == HouseholdStatus.registered)
        .group_by(Person.tenant_id)
    )
    pending = _per_tenant(
        sa.select(ChangeRequest.tenant_id, sa.func.count())
        .where(
            ChangeRequest.tenant_id.in_(tenant_ids),
            ChangeRequest.status == RequestStatus.pending,
        )
        .group_by(ChangeRequest.tenant_id)
    )
    return {
        tenant_id: {
            "households": households.get(tenant_id, 0),
            "persons": persons.get(tenant_id, 0),
            "pending_changes": pending.get(tenant_id, 0),
        }
        for tenant_id in tenant_ids
    }
