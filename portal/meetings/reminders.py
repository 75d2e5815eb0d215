"""The daily reminder of reports (run by `portal remind`): a regular meeting planned within
seven days asks each invited department that has not submitted its report, once per
recipient (the kernel event `report_requested` with `once=True`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from portal.extensions import db
from portal.kernel import events
from portal.kernel.clock import today
from portal.meetings.models import (
    DepartmentReport,
    Meeting,
    MeetingInvitation,
    MeetingKind,
    MeetingStatus,
    ReportStatus,
)

REPORT_DAYS = 7


def send_report_reminders(on: dt.date | None = None) -> int:
    """Announce the missing reports of the tenant-in-scope's coming regular meetings."""
    on = on or today()
    meetings = list(
        db.session.execute(
            sa.select(Meeting).where(
                Meeting.kind == MeetingKind.regular,
                Meeting.status == MeetingStatus.planned,
                Meeting.meeting_date >= on,
                Meeting.meeting_date <= on + dt.timedelta(days=REPORT_DAYS),
            )
        ).scalars()
    )
    if not meetings:
        return 0
    ids = [m.id for m in meetings]
    invited = db.session.execute(
        sa.select(MeetingInvitation.meeting_id, MeetingInvitation.department_id).where(
            MeetingInvitation.meeting_id.in_(ids)
        )
    ).all()
    submitted = set(
        db.session.execute(
            sa.select(DepartmentReport.meeting_id, DepartmentReport.department_id).where(
                DepartmentReport.meeting_id.in_(ids),
                DepartmentReport.status == ReportStatus.submitted,
            )
        ).all()
    )
    missing: dict[object, list] = {}
    for meeting_id, department_id in invited:
        if (meeting_id, department_id) not in submitted:
            missing.setdefault(meeting_id, []).append(department_id)
    sent = 0
    for meeting in meetings:
        if missing.get(meeting.id):
            events.report_requested.send(
                meeting, department_ids=missing[meeting.id], actor=None, once=True
            )
            sent += len(missing[meeting.id])
    return sent
