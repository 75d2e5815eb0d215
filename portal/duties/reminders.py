"""The daily reminder of duties (run by `portal remind`, once a day from cron).

Duties not signed off that fall due within seven days, and those already overdue, are
announced through the kernel event `duties_due`; the messages domain turns them into
站内消息 for the department's officers, once per duty and recipient (running the job twice
the same day, or every day, sends nothing new).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from portal.duties.models import Duty
from portal.duties.queries import overdue_condition
from portal.duties.rules import SIGNED
from portal.extensions import db
from portal.kernel import events
from portal.kernel.clock import today

DUE_SOON_DAYS = 7


def send_reminders(on: dt.date | None = None) -> tuple[int, int]:
    """Announce the tenant-in-scope's due-soon and overdue duties; returns their numbers."""
    on = on or today()
    soon = list(
        db.session.execute(
            sa.select(Duty).where(
                Duty.status.not_in(SIGNED),
                Duty.due_date >= on,
                Duty.due_date <= on + dt.timedelta(days=DUE_SOON_DAYS),
            )
        )
        .unique()
        .scalars()
    )
    overdue = list(
        db.session.execute(sa.select(Duty).where(overdue_condition(on))).unique().scalars()
    )
    if soon:
        events.duties_due.send(None, duties=soon, overdue=False, on=on)
    if overdue:
        events.duties_due.send(None, duties=overdue, overdue=True, on=on)
    return len(soon), len(overdue)
