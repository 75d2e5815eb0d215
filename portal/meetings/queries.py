"""Joint-meeting reads: what pages, the API, exports and drafting ask. Nothing here writes.

Scoping is never done here by hand: every query goes through the scoped session (an
officer sees only the meetings their department is invited to, and only their own
department's reports and action items). Each function issues a fixed number of
statements whatever the number of rows (no lazy loads in loops).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.inputs import where_given
from portal.kernel.periods import Period
from portal.meetings import rules
from portal.meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Decision,
    DepartmentReport,
    Meeting,
    MeetingInvitation,
    MeetingKind,
    MeetingStatus,
    Minutes,
    MinutesComment,
    MinutesStatus,
    ReportStatus,
)
from portal.policy.codes import CADENCES as POLICY_CADENCES
from portal.policy.models import Measure, MeetingArrangement
from portal.policy.rules import meeting_interval_months
from portal.tenancy import scope
from portal.tenancy import services as tenancy
from portal.tenancy.models import Department

SIGNED = (DutyStatus.submitted, DutyStatus.accepted)
# The cadence vocabulary is the policy format's (portal.policy.codes.CADENCES).
CADENCES = tuple(POLICY_CADENCES)


# --- arrangement and departments --------------------------------------------------------


def arrangement() -> MeetingArrangement | None:
    return db.session.execute(sa.select(MeetingArrangement)).scalars().first()


def departments() -> list[Department]:
    """The district's active departments in their order (the one tenancy query)."""
    return tenancy.departments_in_order()


def member_departments(arr: MeetingArrangement | None = None) -> list[Department]:
    """The arrangement's member departments; when the policy lists none (Kaifeng, Zhangdian),
    every active department of the district is a member."""
    arr = arr if arr is not None else arrangement()
    all_departments = departments()
    ids = {str(i) for i in (arr.member_department_ids if arr else [])}
    if arr is not None and arr.office_department_id:
        ids.add(str(arr.office_department_id))
    if not arr or not arr.member_department_ids:
        return all_departments
    return [d for d in all_departments if str(d.id) in ids]


# --- schedule -----------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class Schedule:
    cadence: str
    last_regular: Meeting | None
    next_due: dt.date | None
    stale: bool  # the cadence's interval has passed since the last regular meeting (or none)
    upcoming: list[Meeting]
    today: dt.date
    inferred: dict = field(default_factory=dict)  # the arrangement's 推定 values and reasons


def schedule(on: dt.date | None = None) -> Schedule:
    """When the next regular meeting is due and whether the last one is too old."""
    on = on or today()
    arr = arrangement()
    cadence = (arr.cadence if arr else "") or "unspecified"
    meetings = list(
        db.session.execute(
            sa.select(Meeting)
            .where(Meeting.status != MeetingStatus.cancelled)
            .order_by(Meeting.meeting_date.desc())
            .limit(50)
        ).scalars()
    )
    last_regular = next(
        (m for m in meetings if m.kind == MeetingKind.regular and m.meeting_date <= on), None
    )
    upcoming = sorted((m for m in meetings if m.meeting_date >= on), key=lambda m: m.meeting_date)
    # Only a fixed cadence makes a meeting due (portal.policy.rules): none for 根据工作需要,
    # an unstated cadence or a district whose document sets up no joint meeting.
    months = meeting_interval_months(arr)
    next_due: dt.date | None = None
    if months:
        next_due = add_months(last_regular.meeting_date, months) if last_regular else on
    stale = bool(months) and (
        last_regular is None or add_months(last_regular.meeting_date, months) < on
    )
    return Schedule(
        cadence,
        last_regular,
        next_due,
        stale,
        upcoming,
        on,
        dict(arr.inferred or {}) if arr else {},
    )


def suggested_period(sched: Schedule) -> Period:
    """The half-year after the last regular meeting's, or the current one."""
    last = sched.last_regular
    if last is not None and last.period:
        return Period.parse(last.period).next
    return Period.of(today())


# --- meetings -----------------------------------------------------------------------------


def meetings_query(kind: str | None = None, year: int | None = None) -> sa.Select:
    q = sa.select(Meeting).order_by(Meeting.meeting_date.desc(), Meeting.sequence.desc())
    known_kind = kind if kind in {k.value for k in MeetingKind} else None
    return where_given(q, (Meeting.kind, known_kind), (Meeting.year, year))


def get_meeting(meeting_id: Any) -> Meeting | None:
    return scope.get_scoped(Meeting, meeting_id)


def meeting_period(meeting: Meeting) -> Period:
    return Period.parse(meeting.period) if meeting.period else Period.of(meeting.meeting_date)


def reference_date(meeting: Meeting) -> dt.date:
    """'Overdue' is judged as of the meeting date when it lies ahead: a duty due before the
    meeting and not signed off is overdue by the time the meeting discusses it."""
    return max(today(), meeting.meeting_date)


def previous_regular(meeting: Meeting) -> Meeting | None:
    return (
        db.session.execute(
            sa.select(Meeting)
            .where(
                Meeting.kind == MeetingKind.regular,
                Meeting.status != MeetingStatus.cancelled,
                Meeting.id != meeting.id,
                sa.or_(
                    Meeting.meeting_date < meeting.meeting_date,
                    sa.and_(
                        Meeting.meeting_date == meeting.meeting_date,
                        Meeting.created_at < meeting.created_at,
                    ),
                ),
            )
            .order_by(Meeting.meeting_date.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


# --- live duty data (queries on the duties models; meetings sits above duties) -----------


@dataclass
class DutyLine:
    id: uuid.UUID
    period: str
    department_id: uuid.UUID
    department: str
    measure_number: str
    measure_title: str
    due_date: dt.date
    status: str


def _duty_lines(condition: sa.ColumnElement[bool], limit: int = 500) -> list[DutyLine]:
    """Duty lines in due-date, department and natural measure-number order (review notes
    are not read: they are the lead's working comments, never meeting material)."""
    rows = db.session.execute(
        sa.select(
            Duty.id,
            Duty.period,
            Department.id,
            Department.name,
            Department.sort_order,
            Duty.measure_number,
            Measure.title,
            Duty.due_date,
            Duty.status,
        )
        .join(Department, Department.id == Duty.department_id)
        .join(Measure, Measure.id == Duty.measure_id)
        .where(condition)
        .order_by(Duty.due_date, Department.sort_order)
        .limit(limit)
    ).all()
    rows = sorted(rows, key=lambda r: (r[7], r[4], rules.natural_key(r[5])))
    return [
        DutyLine(i, p, di, dn, num, title, due, DutyStatus(st).value)
        for i, p, di, dn, _order, num, title, due, st in rows
    ]


def overdue_duties(as_of: dt.date, up_to: Period) -> list[DutyLine]:
    return _duty_lines(
        sa.and_(Duty.status.not_in(SIGNED), Duty.due_date < as_of, Duty.period <= up_to.code)
    )


def returned_duties(up_to: Period) -> list[DutyLine]:
    return _duty_lines(sa.and_(Duty.status == DutyStatus.returned, Duty.period <= up_to.code))


def open_action_items(before: Meeting | None = None) -> list[ActionItem]:
    """Open action items of earlier meetings (all meetings but `before`), oldest due first."""
    q = (
        sa.select(ActionItem)
        .options(joinedload(ActionItem.meeting))
        .where(ActionItem.status == ActionStatus.open)
        .order_by(ActionItem.due_date, ActionItem.created_at)
    )
    if before is not None:
        q = q.where(ActionItem.meeting_id != before.id)
    return list(db.session.execute(q).unique().scalars())


# --- agenda, invitations, reports --------------------------------------------------------------


def _rows_of(model: Any, meeting: Meeting, *order_by: Any) -> list[Any]:
    """The meeting's rows of `model` (agenda, decisions, comments …), in one query."""
    stmt = sa.select(model).where(model.meeting_id == meeting.id).order_by(*order_by)
    return list(db.session.execute(stmt).unique().scalars())


def agenda(meeting: Meeting) -> list[AgendaItem]:
    return _rows_of(AgendaItem, meeting, AgendaItem.position, AgendaItem.id)


def agenda_for(user: Any, meeting: Meeting) -> list[AgendaItem] | None:
    """The agenda as `user` may see it: the draft is the lead's (and the auditor's, who
    reads everything) until circulated; invited departments see the circulated agenda.
    None: not shared yet."""
    if meeting.agenda_circulated_at is None and rules.can_report(user):
        return None
    return agenda(meeting)


def invitations(meeting: Meeting) -> list[MeetingInvitation]:
    return list(
        db.session.execute(
            sa.select(MeetingInvitation)
            .join(Department, Department.id == MeetingInvitation.department_id)
            .where(MeetingInvitation.meeting_id == meeting.id)
            .order_by(Department.sort_order, Department.name)
        )
        .unique()
        .scalars()
    )


def _of_department(model: Any, meeting: Meeting, department_id: Any) -> Any:
    """The meeting's one row of `model` for a department (invitation, report), if any."""
    return db.session.execute(
        sa.select(model).where(model.meeting_id == meeting.id, model.department_id == department_id)
    ).scalar_one_or_none()


def invitation(meeting: Meeting, department_id: Any) -> MeetingInvitation | None:
    return _of_department(MeetingInvitation, meeting, department_id)


def pending_invitations(on: dt.date | None = None) -> list[MeetingInvitation]:
    """The officer's notices: upcoming meetings their department is invited to."""
    on = on or today()
    return list(
        db.session.execute(
            sa.select(MeetingInvitation)
            .join(Meeting, Meeting.id == MeetingInvitation.meeting_id)
            .where(Meeting.meeting_date >= on, Meeting.status == MeetingStatus.planned)
            .order_by(Meeting.meeting_date)
        )
        .unique()
        .scalars()
    )


def get_report(meeting: Meeting, department_id: Any) -> DepartmentReport | None:
    return _of_department(DepartmentReport, meeting, department_id)


@dataclass
class ReportTracking:
    invitation: MeetingInvitation
    report: DepartmentReport | None

    @property
    def submitted(self) -> bool:
        return self.report is not None and self.report.status == ReportStatus.submitted


def report_tracking(meeting: Meeting) -> list[ReportTracking]:
    """Every invited department with its report (if any): who has and has not submitted."""
    reports = {r.department_id: r for r in _rows_of(DepartmentReport, meeting)}
    return [ReportTracking(inv, reports.get(inv.department_id)) for inv in invitations(meeting)]


# --- minutes, decisions, action items ----------------------------------------------------------


def minutes_of(meeting: Meeting) -> Minutes:
    """The meeting's minutes; a missing row reads as an unsaved empty draft (reads never
    write: operations create the row when they change it)."""
    m = db.session.execute(
        sa.select(Minutes).where(Minutes.meeting_id == meeting.id)
    ).scalar_one_or_none()
    if m is None:
        m = Minutes(
            meeting_id=meeting.id,
            body="",
            status=MinutesStatus.draft,
            reopen_count=0,
            last_reopen_reason="",
            row_version=1,
        )
    return m


def minutes_comments(meeting: Meeting) -> list[MinutesComment]:
    return _rows_of(MinutesComment, meeting, MinutesComment.created_at)


def decisions(meeting: Meeting) -> list[Decision]:
    return _rows_of(Decision, meeting, Decision.number)


def action_items_query(
    status: str | None = None,
    overdue: bool = False,
    meeting_id: Any = None,
    department_id: Any = None,
    on: dt.date | None = None,
) -> sa.Select:
    # The meeting is shown beside every item: load it in the same statement (an officer's
    # lazy load could not use the identity map because of the invitation criteria).
    q = (
        sa.select(ActionItem)
        .options(joinedload(ActionItem.meeting))
        .order_by(ActionItem.status, ActionItem.due_date, ActionItem.created_at)
    )
    if overdue:
        q = q.where(ActionItem.status == ActionStatus.open, ActionItem.due_date < (on or today()))
    known_status = status if status in {s.value for s in ActionStatus} else None
    return where_given(
        q,
        (ActionItem.status, known_status),
        (ActionItem.meeting_id, meeting_id),
        (ActionItem.department_id, department_id),
    )


def get_action_item(item_id: Any) -> ActionItem | None:
    return scope.get_scoped(ActionItem, item_id)


@dataclass
class DecisionState:
    decision: Decision
    items: list[ActionItem]
    on: dt.date

    @property
    def state(self) -> str:
        """no_action | open | overdue | done."""
        if not self.items:
            return "no_action"
        if all(i.status == ActionStatus.done for i in self.items):
            return "done"
        if any(i.is_overdue(self.on) for i in self.items):
            return "overdue"
        return "open"


def decision_states(meeting: Meeting) -> list[DecisionState]:
    """Every decision of the meeting with its action items (two queries, no N+1)."""
    on = today()
    items: dict[uuid.UUID, list[ActionItem]] = defaultdict(list)
    for it in _rows_of(ActionItem, meeting, ActionItem.created_at):
        items[it.decision_id].append(it)
    return [DecisionState(d, items.get(d.id, []), on) for d in decisions(meeting)]


# --- text ------------------------------------------------------------------------------------


def render_markdown(text: str) -> str:
    """Markdown → HTML, sanitised with nh3 (no scripts, no inline handlers, no styles)."""
    from portal.kernel import markdown

    return markdown.render(text)
