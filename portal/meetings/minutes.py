"""Minutes (会议纪要): draft → circulated for comments → finalised (locked).

Finalising is the act that makes the meeting's record stand: it marks the meeting held
and locks its agenda, attendance, reports and decisions. Reopening is explicit, needs a
reason and is in the audit trail. Exports are recorded here too.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.rules import NotFound
from portal.meetings import queries, rules
from portal.meetings.models import (
    Meeting,
    MeetingStatus,
    Minutes,
    MinutesComment,
    MinutesStatus,
)
from portal.meetings.rules import MeetingError


def minutes_for_write(meeting: Meeting) -> Minutes:
    """The minutes row, created if an older meeting lacks one."""
    m = queries.minutes_of(meeting)
    if m not in db.session:
        db.session.add(m)
        rules.flush()
    return m


def _writable(user: Any, meeting: Meeting, expected_version: Any) -> Minutes:
    """The meeting's minutes for the lead to change, at the version the form was based on."""
    rules.require(user, rules.MANAGE)
    m = minutes_for_write(meeting)
    rules.check_version(m, expected_version)
    return m


def _recorded(m: Minutes, action: str, summary: str, **kwargs: Any) -> Minutes:
    """Writes the change of state and records the act in the audit trail."""
    rules.flush()
    trail.record_on(m, action, summary=summary, **kwargs)
    return m


def save_minutes(user: Any, meeting: Meeting, body: str, expected_version: Any) -> Minutes:
    m = _writable(user, meeting, expected_version)
    rules.check_open(m, field="body")
    m.body = rules.text(body, "body", limit=rules.MAX_TEXT * 5)
    m.updated_at = utcnow()
    rules.flush()
    return m


def circulate_minutes(user: Any, meeting: Meeting, expected_version: Any) -> Minutes:
    m = _writable(user, meeting, expected_version)
    if m.status != MinutesStatus.draft:
        raise MeetingError(_l("Only draft minutes can be circulated."))
    if not m.body.strip():
        raise MeetingError(_l("Write the minutes before circulating them."), field="body")
    m.status = MinutesStatus.circulated
    m.circulated_at = utcnow()
    return _recorded(m, "minutes_circulated", meeting.number)


def finalise_minutes(user: Any, meeting: Meeting, expected_version: Any) -> Minutes:
    """The lead's act that closes the record: the meeting is held from then on."""
    m = _writable(user, meeting, expected_version)
    if m.status == MinutesStatus.finalised:
        raise MeetingError(_l("The minutes are already finalised."))
    if not m.body.strip():
        raise MeetingError(_l("Write the minutes before finalising them."), field="body")
    rules.check_held_date(meeting, MeetingStatus.held)
    m.status = MinutesStatus.finalised
    m.finalised_at = utcnow()
    m.finalised_by_id = user.id
    if meeting.status == MeetingStatus.planned:
        meeting.status = MeetingStatus.held
    return _recorded(m, "minutes_finalised", meeting.number)


def reopen_minutes(user: Any, meeting: Meeting, reason: str, expected_version: Any) -> Minutes:
    """Reopening finalised minutes is an explicit act with a reason, in the audit trail."""
    m = _writable(user, meeting, expected_version)
    if m.status != MinutesStatus.finalised:
        raise MeetingError(_l("Only finalised minutes can be reopened."))
    reason = rules.text(reason, "reason", required=True, limit=1000)
    if len(reason) < 4:
        raise MeetingError(_l("Say why the minutes are reopened."), field="reason")
    m.status = MinutesStatus.draft
    m.reopen_count += 1
    m.last_reopen_reason = reason
    m.finalised_at = None
    return _recorded(m, "minutes_reopened", reason[:400], data={"reason": reason})


def comment_on_minutes(user: Any, meeting: Meeting, body: str) -> MinutesComment:
    rules.require(user, rules.REPORT)
    m = queries.minutes_of(meeting)
    if m.status != MinutesStatus.circulated:
        raise MeetingError(_l("Comments are taken only while the minutes are circulated."))
    if queries.invitation(meeting, user.department_id) is None:
        raise NotFound(_l("This meeting does not exist."))
    c = MinutesComment(
        meeting_id=meeting.id,
        department_id=user.department_id,
        author_id=user.id,
        body=rules.text(body, "comment", required=True, limit=5000),
    )
    db.session.add(c)
    rules.flush()
    return c


def record_export(meeting: Meeting, kind: str) -> None:
    trail.record_on(
        meeting,
        "export",
        summary=kind,
        data={"kind": kind},
    )
