"""Counts of what waits on the user, shown beside menu items. Each badge answers a count
`Select` (or None: no badge for this user); `portal.ui` runs all of a page's counts as
one statement, once per request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_login import current_user

from portal.duties.models import Duty, DutyStatus
from portal.kernel.clock import today
from portal.kernel.grants import can
from portal.meetings.models import ActionItem, ActionStatus
from portal.ui import register_badge


def _count(grant: str, model: Any, *where: Any) -> sa.Select | None:
    """How many `model` rows in scope match, for a user holding `grant` (None: no badge)."""
    if not can(current_user, grant):
        return None
    return sa.select(sa.func.count(model.id)).where(*where)


def waiting_for_review() -> sa.Select | None:
    """待审核: submitted duties waiting for the lead, any half-year."""
    return _count("duty.review", Duty, Duty.status == DutyStatus.submitted)


def returned_to_me() -> sa.Select | None:
    """被退回: the officer's department's duties returned by the lead."""
    return _count("duty.sign_off", Duty, Duty.status == DutyStatus.returned)


def actions_due() -> sa.Select | None:
    """督办: the officer's open action items overdue or due within seven days."""
    horizon = today() + dt.timedelta(days=7)
    return _count(
        "action_item.update",
        ActionItem,
        ActionItem.status == ActionStatus.open,
        ActionItem.due_date <= horizon,
    )


register_badge("duties.review_queue", waiting_for_review)
register_badge("duties.index", returned_to_me)
register_badge("meetings.action_items", actions_due)
