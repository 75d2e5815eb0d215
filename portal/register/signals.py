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


@signals.tenant_statistics.connect
def register_statistics(_sender: Any, tenant_ids: list[uuid.UUID], **_kw: Any) -> dict:
    """{tenant_id: {households, persons, pending_changes}}: households and persons in the
    register (在册), change requests awaiting confirmation. Runs inside the asker's
    explicit cross-tenant scope; one statement (three grouped counts in a UNION ALL)
    whatever the number of tenants."""
    if not tenant_ids:
        return {}
    registered = Household.status == HouseholdStatus.registered
    households = (
        sa.select(Household.tenant_id, sa.literal("households").label("name"), sa.func.count())
        .where(Household.tenant_id.in_(tenant_ids), registered)
        .group_by(Household.tenant_id)
    )
    persons = (
        sa.select(Person.tenant_id, sa.literal("persons").label("name"), sa.func.count())
        .join(
            Household,
            sa.and_(Household.tenant_id == Person.tenant_id, Household.id == Person.household_id),
        )
        .where(Person.tenant_id.in_(tenant_ids), registered)
        .group_by(Person.tenant_id)
    )
    pending = (
        sa.select(
            ChangeRequest.tenant_id, sa.literal("pending_changes").label("name"), sa.func.count()
        )
        .where(
            ChangeRequest.tenant_id.in_(tenant_ids),
            ChangeRequest.status == RequestStatus.pending,
        )
        .group_by(ChangeRequest.tenant_id)
    )
    out = {
        tenant_id: {"households": 0, "persons": 0, "pending_changes": 0} for tenant_id in tenant_ids
    }
    for tenant_id, name, n in db.session.execute(sa.union_all(households, persons, pending)):
        out[uuid.UUID(str(tenant_id))][name] = int(n)
    return out
