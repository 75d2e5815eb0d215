"""What the dashboards show, computed with a few set-based queries (no per-row look-ups).

The lead's dashboard: completion by department (one GROUP BY, shared with the status
table and the overdue/returned ranking), the trend over four half-years (one GROUP BY),
action items by state (one GROUP BY) and the next joint meeting (one MIN). "Overdue"
is the duties domain's definition (`overdue_condition`): past its due date (the end of
its half-year) and not signed off, as of today.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal.duties import queries as duties
from portal.duties.models import Duty, DutyStatus
from portal.duties.rules import OPEN
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.periods import Period
from portal.meetings.models import ActionItem, ActionStatus, Meeting, MeetingStatus

STATUSES = [s.value for s in DutyStatus]


class StatusCounts:
    """Duties counted by status (`counts`): their total and the accepted share."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def completion(self) -> float:
        """Accepted share of the duties, in percent."""
        return round(100 * self.counts.get("accepted", 0) / self.total, 1) if self.total else 0.0


@dataclass
class DepartmentRow(StatusCounts):
    department_id: uuid.UUID
    name: str
    counts: dict[str, int]
    overdue: int


@dataclass
class TrendPoint:
    period: Period
    total: int
    accepted: int
    signed_off: int  # submitted or accepted

    @property
    def completion(self) -> float:
        return round(100 * self.accepted / self.total, 1) if self.total else 0.0

    @property
    def signed_off_rate(self) -> float:
        return round(100 * self.signed_off / self.total, 1) if self.total else 0.0


@dataclass
class LeadDashboard:
    period: Period
    today: dt.date
    departments: list[DepartmentRow]
    totals: dict[str, int]
    trend: list[TrendPoint]
    ranking: list[DepartmentRow]
    actions: dict[str, int]
    next_meeting: Meeting | None
    days_to_meeting: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def completion(self) -> float:
        total = self.totals.get("total", 0)
        return round(100 * self.totals.get("accepted", 0) / total, 1) if total else 0.0


def department_rows(period: Period) -> list[DepartmentRow]:
    """Departments × status (plus overdue) for one half-year: one GROUP BY query."""
    return [
        DepartmentRow(r.department_id, r.department, dict(r.counts), r.overdue)
        for r in duties.status_matrix(period.code)
    ]


def trend(period: Period, halves: int = 4) -> list[TrendPoint]:
    """Completion in each of the last `halves` half-years up to `period`: one GROUP BY."""
    periods = [period.shift(-k) for k in range(halves - 1, -1, -1)]
    found = db.session.execute(
        sa.select(Duty.period, Duty.status, sa.func.count(Duty.id))
        .where(Duty.period.in_([p.code for p in periods]))
        .group_by(Duty.period, Duty.status)
    ).all()
    by_period: dict[str, dict[str, int]] = {p.code: {} for p in periods}
    for code, status, n in found:
        by_period[code][DutyStatus(status).value] = int(n)
    points = []
    for p in periods:
        counts = by_period[p.code]
        accepted = counts.get("accepted", 0)
        points.append(
            TrendPoint(p, sum(counts.values()), accepted, accepted + counts.get("submitted", 0))
        )
    return points


def ranking(rows: list[DepartmentRow], limit: int = 10) -> list[DepartmentRow]:
    """Departments with overdue or returned duties, the most lagging first (no query)."""
    lagging = [r for r in rows if r.overdue or r.counts.get("returned", 0)]
    lagging.sort(key=lambda r: (-(r.overdue + r.counts.get("returned", 0)), r.name))
    return lagging[:limit]


def action_states(on: dt.date | None = None) -> dict[str, int]:
    """Action items open (on time), overdue (open past their due date) and done: one query."""
    on = on or today()
    late = sa.and_(ActionItem.status == ActionStatus.open, ActionItem.due_date < on)
    state = sa.case((late, "overdue"), else_=ActionItem.status)
    found = db.session.execute(sa.select(state, sa.func.count(ActionItem.id)).group_by(state)).all()
    result = {"open": 0, "overdue": 0, "done": 0}
    for key, n in found:
        result[str(getattr(key, "value", key))] = int(n)
    return result


def next_meeting(on: dt.date | None = None) -> Meeting | None:
    on = on or today()
    return db.session.execute(
        sa.select(Meeting)
        .where(Meeting.meeting_date >= on, Meeting.status == MeetingStatus.planned)
        .order_by(Meeting.meeting_date)
        .limit(1)
    ).scalar_one_or_none()


def lead_dashboard(period: Period) -> LeadDashboard:
    """Everything the lead's dashboard draws: four queries, whatever the district's size."""
    on = today()
    rows = department_rows(period)
    meeting = next_meeting(on)
    return LeadDashboard(
        period=period,
        today=on,
        departments=rows,
        totals=duties.status_totals(rows),
        trend=trend(period),
        ranking=ranking(rows),
        actions=action_states(on),
        next_meeting=meeting,
        days_to_meeting=(meeting.meeting_date - on).days if meeting else None,
    )


@dataclass
class OfficerDashboard(StatusCounts):
    period: Period
    counts: dict[str, int]
    overdue: int
    due_next: list[Any]


def officer_dashboard(period: Period, limit: int = 8) -> OfficerDashboard:
    """The officer's department (the scoping hook keeps them to it): its progress in the
    half-year (one GROUP BY) and the open duties due next (one query)."""
    late = sa.case((duties.overdue_condition(), 1), else_=0)
    found = db.session.execute(
        sa.select(Duty.status, sa.func.count(Duty.id), sa.func.sum(late))
        .where(Duty.period == period.code)
        .group_by(Duty.status)
    ).all()
    counts = {s: 0 for s in STATUSES}
    overdue = 0
    for status, n, n_late in found:
        counts[DutyStatus(status).value] = int(n)
        overdue += int(n_late or 0)
    due_next = list(
        db.session.execute(
            sa.select(Duty)
            .where(Duty.status.in_(OPEN), Duty.period <= period.code)
            .order_by(Duty.due_date, Duty.measure_number)
            .limit(limit)
        )
        .unique()
        .scalars()
    )
    return OfficerDashboard(period, counts, overdue, due_next)
