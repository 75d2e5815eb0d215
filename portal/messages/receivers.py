"""Receivers of `portal.kernel.events`: each event becomes messages for the people
concerned. They run inside the sender's unit of work and tenant scope."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.audit import trail
from portal.auth.models import User
from portal.extensions import db
from portal.kernel import events, periods
from portal.messages import operations
from portal.messages.models import Message, MessageKind


def _duty_subject(duty: Any) -> str:
    """A duty as its messages name it: period, measure number and title."""
    title = getattr(getattr(duty, "measure", None), "title", "") or ""
    return f"{periods.label(duty.period)} {duty.measure_number} {title}".strip()


def _notify_dated(
    to: list, kind: MessageKind, text: Any, day: Any, record: Any, actor: Any, ref_type: str = ""
) -> list:
    """A message about a record with a text and a date (a meeting, an action item): the
    text as the subject (cut to the column), the date as the detail; the record's class
    names it unless `ref_type` says otherwise."""
    return operations.notify(
        to,
        kind,
        subject=(text or "")[:300],
        detail=day.isoformat() if day else "",
        ref_type=ref_type or type(record).__name__,
        ref_id=record.id,
        actor=actor,
    )


@events.duty_reviewed.connect
def _duty_reviewed(
    duty: Any, *, accepted: bool, actor: Any = None, note: str = "", **_: Any
) -> None:
    """The officer who signed the duty off hears of its acceptance or return (their
    department's officers when nobody is on record)."""
    recipients = (
        [duty.submitted_by_id]
        if duty.submitted_by_id
        else operations.officers_of([duty.department_id])
    )
    operations.notify(
        recipients,
        MessageKind.duty_accepted if accepted else MessageKind.duty_returned,
        subject=_duty_subject(duty),
        detail=note or "",
        ref_type="Duty",
        ref_id=duty.id,
        actor=actor,
    )


@events.action_item_assigned.connect
def _action_items(decision: Any, *, items: list, actor: Any = None, **_: Any) -> None:
    for item in items:
        to = operations.officers_of([item.department_id])
        _notify_dated(to, MessageKind.action_item_assigned, item.text, item.due_date, item, actor)


@events.meeting_invited.connect
def _meeting_invited(meeting: Any, *, department_ids: list, actor: Any = None, **_: Any) -> None:
    to = operations.officers_of(department_ids)
    kind = MessageKind.meeting_invited
    _notify_dated(to, kind, meeting.title, meeting.meeting_date, meeting, actor, "Meeting")


def _record_reminders(kind: MessageKind, made: int) -> None:
    """The daily job's messages are its own writes: one audit event with their number."""
    if made:
        trail.record(
            db.session,
            "message.reminders",
            entity_type="Message",
            summary=f"{kind.value}: {made}",
            data={"kind": kind.value, "messages": made},
        )


def _already_told(kind: MessageKind, ref_ids: list) -> set[tuple]:
    """(ref_id, user_id) pairs that already have a message of this kind: the daily job
    tells each recipient once, however often it runs."""
    if not ref_ids:
        return set()
    return set(
        db.session.execute(
            sa.select(Message.ref_id, Message.user_id).where(
                Message.kind == kind, Message.ref_id.in_(ref_ids)
            )
        ).all()
    )


def _officers_by_department(department_ids: list) -> dict[Any, list]:
    """Active officers per department, in one query."""
    ids = list({d for d in department_ids if d is not None})
    if not ids:
        return {}
    found: dict[Any, list] = {}
    for user_id, department_id in db.session.execute(
        sa.select(User.id, User.department_id).where(
            User.department_id.in_(ids), User.active.is_(True)
        )
    ).all():
        found.setdefault(department_id, []).append(user_id)
    return found


@events.duties_due.connect
def _duties_due(_sender: Any, *, duties: list, overdue: bool, **_: Any) -> None:
    kind = MessageKind.duty_overdue if overdue else MessageKind.duty_due_soon
    told = _already_told(kind, [d.id for d in duties])
    officers = _officers_by_department([d.department_id for d in duties])
    made = 0
    for duty in duties:
        recipients = [u for u in officers.get(duty.department_id, []) if (duty.id, u) not in told]
        if not recipients:
            continue
        made += len(
            operations.notify(
                recipients,
                kind,
                subject=_duty_subject(duty),
                detail=duty.due_date.isoformat(),
                ref_type="Duty",
                ref_id=duty.id,
            )
        )
    _record_reminders(kind, made)


@events.report_requested.connect
def _report_requested(
    meeting: Any, *, department_ids: list, actor: Any = None, once: bool = False, **_: Any
) -> None:
    told = _already_told(MessageKind.report_requested, [meeting.id]) if once else set()
    officers = _officers_by_department(department_ids)
    recipients = [
        u for d in department_ids for u in officers.get(d, []) if (meeting.id, u) not in told
    ]
    kind = MessageKind.report_requested
    made = _notify_dated(
        recipients, kind, meeting.title, meeting.meeting_date, meeting, actor, "MeetingReport"
    )
    if once:  # the daily job's; a returned report is already audited as its own event
        _record_reminders(MessageKind.report_requested, len(made))
