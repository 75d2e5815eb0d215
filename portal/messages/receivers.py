"""Receivers of `portal.kernel.events`: each event becomes messages for the people
concerned. They run inside the sender's unit of work and tenant scope."""

from __future__ import annotations

from typing import Any

from portal.kernel import events, periods
from portal.messages import operations
from portal.messages.models import MessageKind


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
    title = getattr(getattr(duty, "measure", None), "title", "") or ""
    operations.notify(
        recipients,
        MessageKind.duty_accepted if accepted else MessageKind.duty_returned,
        subject=f"{periods.label(duty.period)} {duty.measure_number} {title}".strip(),
        detail=note or "",
        ref_type="Duty",
        ref_id=duty.id,
        actor=actor,
    )


@events.action_item_assigned.connect
def _action_items(decision: Any, *, items: list, actor: Any = None, **_: Any) -> None:
    for item in items:
        operations.notify(
            operations.officers_of([item.department_id]),
            MessageKind.action_item_assigned,
            subject=(item.text or "")[:300],
            detail=item.due_date.isoformat() if item.due_date else "",
            ref_type="ActionItem",
            ref_id=item.id,
            actor=actor,
        )


@events.meeting_invited.connect
def _meeting_invited(meeting: Any, *, department_ids: list, actor: Any = None, **_: Any) -> None:
    operations.notify(
        operations.officers_of(department_ids),
        MessageKind.meeting_invited,
        subject=(meeting.title or "")[:300],
        detail=meeting.meeting_date.isoformat() if meeting.meeting_date else "",
        ref_type="Meeting",
        ref_id=meeting.id,
        actor=actor,
    )
