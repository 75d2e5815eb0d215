"""Counts of what waits on the user, shown beside menu items (one small query each, at
most once per request: `portal.ui` caches them in `g`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import current_user

from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.grants import can
from portal.meetings.models import ActionItem, ActionStatus
from portal.ui import register_badge


def waiting_for_review() -> int | None:
    """待审核: submitted duties waiting for the lead, any half-year."""
    if not can(current_user, "duty.review"):
        return None
    return db.session.execute(
        sa.select(sa.func.count(Duty.id)).where(Duty.status == DutyStatus.submitted)
    ).scalar_one()


def returned_to_me() -> int | None:
    """被退回: the officer's department's duties returned by the lead."""
    if not can(current_user, "duty.sign_off"):
        return None
    return db.session.execute(
        sa.select(sa.func.count(Duty.id)).where(Duty.status == DutyStatus.returned)
    ).scalar_one()


def actions_due() -> int | None:
    """督办: the officer's open action items overdue or due within seven days."""
    if not can(current_user, "action_item.update"):
        return None
    horizon = today() + dt.timedelta(days=7)
    return db.session.execute(
        sa.select(sa.func.count(ActionItem.id)).where(
            ActionItem.status == ActionStatus.open, ActionItem.due_date <= horizon
        )
    ).scalar_one()


register_badge("duties.review_queue", waiting_for_review)
register_badge("duties.index", returned_to_me)
register_badge("meetings.action_items", actions_due)
