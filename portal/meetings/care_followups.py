"""Care follow-ups taken up by the joint meeting: a visit or call whose visitor marked
"follow-up needed" becomes an action item (督办事项) of a decision, for the departments
the lead chooses, or is linked to an open action item that already covers it.

Meetings sit above care: this module reads care's visits; care never reads meetings.
Writes go through the decisions' operations and are audited by the trail's flush hook
(the item's `visit_id`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.care.models import Visit
from portal.extensions import db
from portal.kernel.rules import NotFound
from portal.meetings import decisions, rules
from portal.meetings.models import ActionItem, ActionStatus, Decision
from portal.meetings.rules import MeetingError
from portal.register.models import Household, HouseholdStatus
from portal.tenancy import scope

__all__ = ["FollowUp", "action_from_visit", "draft_text", "link_visit", "open_followups"]


@dataclass
class FollowUp:
    """A visit that asked for follow-up, its household's number and the items on it."""

    visit: Visit
    household_number: str
    items: list[ActionItem] = field(default_factory=list)


def open_followups(since: dt.date | None = None, limit: int = 100) -> list[FollowUp]:
    """Visits with a follow-up (newest first) of registered households, each with the
    action items that take it up (two statements)."""
    q = (
        sa.select(Visit, Household.number)
        .join(
            Household,
            sa.and_(Household.tenant_id == Visit.tenant_id, Household.id == Visit.household_id),
        )
        .where(Visit.follow_up.is_(True), Household.status == HouseholdStatus.registered)
        .order_by(Visit.visited_on.desc(), Visit.id)
        .limit(limit)
    )
    if since is not None:
        q = q.where(Visit.visited_on >= since)
    rows = [FollowUp(v, number) for v, number in db.session.execute(q).all()]
    by_visit = {f.visit.id: f for f in rows}
    if by_visit:
        for item in db.session.execute(
            sa.select(ActionItem)
            .where(ActionItem.visit_id.in_(list(by_visit)))
            .order_by(ActionItem.created_at)
        ).scalars():
            by_visit[item.visit_id].items.append(item)  # type: ignore[index]
    return rows


def _visit(visit_id: Any) -> Visit:
    visit = scope.get_scoped(Visit, visit_id)
    if visit is None or not visit.follow_up:
        raise NotFound(_l("The visit was not found."))
    return visit


def draft_text(followup: FollowUp) -> str:
    """The action item's text the form proposes: the household and what to follow up."""
    return f"{followup.household_number}：{followup.visit.follow_up_note}"


def action_from_visit(
    user: Any, decision: Decision, visit_id: Any, data: decisions.ActionInput
) -> list[ActionItem]:
    """Action items of `decision` (one per chosen department) taking up a visit's
    follow-up; the decision's minutes must still be open, as for any action item."""
    rules.require(user, rules.MANAGE)
    visit = _visit(visit_id)
    return decisions.add_action_items(user, decision, data, visit_id=visit.id)


def link_visit(user: Any, item_id: Any, visit_id: Any) -> ActionItem:
    """Link an open action item that already covers the follow-up to the visit."""
    rules.require(user, rules.MANAGE)
    visit = _visit(visit_id)
    item = scope.get_scoped(ActionItem, item_id)
    if item is None:
        raise MeetingError(_l("Choose an open action item."), field="item_id")
    if item.status != ActionStatus.open:
        raise MeetingError(_l("Choose an open action item."), field="item_id")
    if item.visit_id not in (None, visit.id):
        raise MeetingError(
            _l("This action item already takes up another visit's follow-up."), field="item_id"
        )
    item.visit_id = visit.id
    rules.flush()
    return item


def open_items(meeting_id: uuid.UUID) -> list[ActionItem]:
    """The meeting's open action items a follow-up may be linked to."""
    return list(
        db.session.execute(
            sa.select(ActionItem)
            .where(ActionItem.meeting_id == meeting_id, ActionItem.status == ActionStatus.open)
            .order_by(ActionItem.created_at)
        ).scalars()
    )
