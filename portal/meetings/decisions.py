"""Decisions (议定事项) and their action items (督办事项).

The lead records decisions (numbered 一、二、三… per meeting, safe when two are recorded
at once) and assigns action items, one per responsible department; the department
notes progress and closes its item with a note; the lead may reopen a closure. Finalised
minutes lock the decisions; following up action items goes on after the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import events
from portal.kernel.rules import NotFound
from portal.meetings import queries, rules
from portal.meetings.arrangement import (
    chosen_departments,
    find_by_request_key,
    insert_numbered,
    request_key,
)
from portal.meetings.models import ActionItem, ActionStatus, Decision, Meeting
from portal.meetings.rules import MeetingError


@dataclass
class ActionInput:
    text: str
    department_ids: list[str]
    due_date: Any


def _renumber(decision: Decision) -> None:
    decision.number = (
        db.session.execute(
            sa.select(sa.func.max(Decision.number)).where(
                Decision.meeting_id == decision.meeting_id
            )
        ).scalar()
        or 0
    ) + 1


def _clean_action(data: ActionInput) -> tuple[str, Any, list[Any]]:
    text = rules.text(data.text, "action_text", required=True, limit=rules.MAX_TEXT)
    due = rules.date(data.due_date, "due_date")
    chosen = chosen_departments(data.department_ids)
    if not chosen:
        raise MeetingError(_l("Choose at least one department."), field="departments")
    return text, due, chosen


def add_decision(
    user: Any,
    meeting: Meeting,
    text: str,
    actions: list[ActionInput] | None = None,
    key: Any = None,
) -> Decision:
    """A decision with its action items, all checked before anything is written."""
    rules.require(user, rules.MANAGE)
    rules.check_open(queries.minutes_of(meeting), field="decision")
    earlier = find_by_request_key(Decision, request_key(key), meeting_id=meeting.id)
    if earlier is not None:
        return earlier
    text = rules.text(text, "decision", required=True, limit=rules.MAX_TEXT)
    cleaned = [_clean_action(a) for a in actions or []]
    decision = Decision(meeting_id=meeting.id, number=0, text=text, request_key=request_key(key))
    saved = insert_numbered(decision, _renumber)
    if saved is not decision:
        return saved
    for action_text, due, chosen in cleaned:
        _add_items(decision, action_text, due, chosen)
    return decision


def _add_items(
    decision: Decision, text: str, due: Any, chosen: list[Any], visit_id: Any = None
) -> list[ActionItem]:
    items = []
    for department in chosen:
        item = ActionItem(
            meeting_id=decision.meeting_id,
            decision_id=decision.id,
            department_id=department.id,
            text=text,
            due_date=due,
            visit_id=visit_id,
        )
        db.session.add(item)
        items.append(item)
    rules.flush()
    events.action_item_assigned.send(decision, items=items, actor=None)
    return items


def add_action_items(
    user: Any, decision: Decision, data: ActionInput, visit_id: Any = None
) -> list[ActionItem]:
    """One action item per assigned department, all with the same text and due date
    (`visit_id`: the care visit whose follow-up they take up)."""
    rules.require(user, rules.MANAGE)
    rules.check_open(queries.minutes_of(decision.meeting), field="action_text")
    text, due, chosen = _clean_action(data)
    return _add_items(decision, text, due, chosen, visit_id)


def update_action_item(
    user: Any, item: ActionItem, note: str, close: bool, expected_version: Any
) -> ActionItem:
    """The assigned department records progress or closes the item (closing needs a note)."""
    rules.require(user, rules.UPDATE_ITEM)
    if item.department_id != user.department_id:
        raise NotFound(_l("This action item does not exist."))
    rules.check_version(item, expected_version)
    if item.status == ActionStatus.done:
        raise MeetingError(_l("This action item is already closed."))
    note = rules.text(note, "note", required=True, limit=5000)
    if close:
        if len(note) < 2:
            raise MeetingError(_l("Say how the action was completed."), field="note")
        item.status = ActionStatus.done
        item.closing_note = note
        item.closed_at = utcnow()
        item.closed_by_id = user.id
    else:
        item.progress_note = note
    rules.flush()
    if close:
        trail.record_on(
            item,
            "action_item_closed",
            department_id=item.department_id,
            data={"note": note[:400]},
        )
    return item


def reopen_action_item(user: Any, item: ActionItem, reason: str, expected_version: Any):
    """The lead reopens a closed item (the closure was not accepted)."""
    rules.require(user, rules.MANAGE)
    rules.check_version(item, expected_version)
    if item.status != ActionStatus.done:
        raise MeetingError(_l("Only a closed action item can be reopened."))
    reason = rules.text(reason, "reason", required=True, limit=1000)
    item.status = ActionStatus.open
    item.progress_note = f"重新打开：{reason}"
    item.closed_at = None
    rules.flush()
    return item
