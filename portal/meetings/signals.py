"""The meetings domain's answer to the platform's `tenant_statistics` question."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.kernel import signals
from portal.meetings.models import Meeting, MeetingStatus


@signals.tenant_statistics.connect
def meeting_statistics(_sender: Any, tenant_ids: list[uuid.UUID], **_kw: Any) -> dict:
    """The date of the last joint meeting held, per tenant.

    Runs inside the asker's explicit cross-tenant scope."""
    rows = db.session.execute(
        sa.select(Meeting.tenant_id, sa.func.max(Meeting.meeting_date))
        .where(Meeting.tenant_id.in_(tenant_ids), Meeting.status == MeetingStatus.held)
        .group_by(Meeting.tenant_id)
    ).all()
    return {tenant_id: {"last_meeting": held_on} for tenant_id, held_on in rows}
