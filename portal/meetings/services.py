"""Joint-meeting rules, shared by the UI, the JSON API, the CLI and the demo.

The flow (issue 6): the lead keeps the arrangement (from the policy file), sees when the
next regular meeting is due, creates a meeting (its invitations and a draft agenda come
from live duty data), departments submit reports drafted from their duties, the lead
records attendance, minutes (draft → circulated → finalised; reopening is explicit and
audited) and decisions with action items, which departments close with a note.

Scoping is never done here by hand: every query goes through the scoped session.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from portal.audit import trail
from portal.auth.models import Role
from portal.db import utcnow
from portal.duties import services as duty_services
from portal.duties.models import Assessment, Duty, DutyStatus, ProgressEntry
from portal.extensions import db
from portal.kernel import events, rules
from portal.meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendance,
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
from portal.policy.models import Measure, MeetingArrangement
from portal.tenancy import scope
from portal.tenancy.models import Department

SIGNED = (DutyStatus.submitted, DutyStatus.accepted)
PERIOD_RE = re.compile(r"^(\d{4})H([12])$")
MAX_TEXT = 20000
MAX_LINE = 300
CHINESE_NUMERALS = "〇一二三四五六七八九"


# --- errors -----------------------------------------------------------------------------


class MeetingError(rules.RuleError):
    """A rule of this domain was broken."""


class ConflictError(MeetingError):
    code = "conflict"
    status = 409


class NotAllowed(MeetingError):
    code = "forbidden"
    status = 403


def _conflict() -> ConflictError:
    return ConflictError(
        _l(
            "Someone else changed this record after you opened it. Reload the page, "
            "check the current state and save again."
        )
    )


def check_version(row: Any, expected: int | str | None) -> None:
    rules.check_version(row, expected, _conflict)


def flush() -> None:
    rules.flush(_conflict)


def _require(user: Any, *roles: Role) -> None:
    if user is None or getattr(user, "role", None) not in roles:
        raise NotAllowed(_l("You do not have permission to do this."))


FIELD_LABELS = {
    "name": _l("Name"),
    "cadence": _l("Cadence"),
    "chief_convener": _l("Chief convener"),
    "conveners": _l("Conveners"),
    "office_department": _l("Office department"),
    "member_departments": _l("Member departments"),
    "note": _l("Note"),
    "kind": _l("Kind"),
    "period": _l("Period"),
    "title": _l("Title"),
    "meeting_date": _l("Date"),
    "start_time": _l("Time"),
    "place": _l("Place"),
    "chair": _l("Chair"),
    "departments": _l("Departments"),
    "detail": _l("Details"),
    "body": _l("Text"),
    "families_reached": _l("Families reached"),
    "amount_paid": _l("Amount paid"),
    "not_delivered": _l("Not delivered, and why"),
    "reason": _l("Reason"),
    "comment": _l("Comment"),
    "decision": _l("Decision"),
    "action_text": _l("Action item"),
    "due_date": _l("Due date"),
    "delegate": _l("Delegate"),
    "attendance": _l("Attendance"),
}


def label(name: str) -> Any:
    """The translated label of a field (`delegate-<id>` → Delegate)."""
    return FIELD_LABELS.get(name.split("-", 1)[0], name)


def _text(value: Any, name: str, *, required: bool = False, limit: int = MAX_LINE) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise MeetingError(_l("%(field)s is required.", field=label(name)), field=name)
    if len(text) > limit:
        raise MeetingError(
            _l("%(field)s is too long (at most %(n)s characters).", field=label(name), n=limit),
            field=name,
        )
    return text


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise MeetingError(
            _l("%(field)s must be a date like 2026-12-20.", field=label(name)), field=name
        ) from None


# --- periods: the duties domain's (one definition of today and of half-year periods) ----

today = duty_services.today
period_for = duty_services.period_for
shift_period = duty_services.shift_period


def parse_period(value: Any, name: str = "period") -> str:
    text = str(value or "").strip().upper()
    match = PERIOD_RE.match(text)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise MeetingError(
            _l("The period must look like 2026H1 or 2026H2 (year, H, half)."), field=name
        )
    return text


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


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (decision numbering 一、二、三…)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return CHINESE_NUMERALS[n]
    if n < 20:
        return "十" + (CHINESE_NUMERALS[n % 10] if n % 10 else "")
    if n < 100:
        return CHINESE_NUMERALS[n // 10] + "十" + (CHINESE_NUMERALS[n % 10] if n % 10 else "")
    return str(n)


# --- arrangement -------------------------------------------------------------------------


# The same cadence codes as the policy-file format (portal.platform.adapters.CADENCES).
CADENCES = ("semiannual", "quarterly", "yearly", "ad_hoc")
CADENCE_MONTHS = {"semiannual": 6, "quarterly": 3, "yearly": 12}


def arrangement() -> MeetingArrangement | None:
    return db.session.execute(sa.select(MeetingArrangement)).scalars().first()


def departments() -> list[Department]:
    return list(
        db.session.execute(
            sa.select(Department)
            .where(Department.active.is_(True))
            .order_by(Department.sort_order, Department.name)
        ).scalars()
    )


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


@dataclass
class ArrangementInput:
    name: str = ""
    cadence: str = "semiannual"
    chief_convener: str = ""
    conveners: list[str] = field(default_factory=list)
    office_department_id: str | None = None
    member_department_ids: list[str] = field(default_factory=list)
    note: str = ""


def update_arrangement(user: Any, data: ArrangementInput, expected_version: Any = None):
    """The lead edits the arrangement loaded from the policy file."""
    _require(user, Role.district_lead)
    arr = arrangement()
    if arr is None:
        arr = MeetingArrangement(name="")
        db.session.add(arr)
    else:
        check_version(arr, expected_version)
    name = _text(data.name, "name", required=True, limit=200)
    cadence = (data.cadence or "").strip()  # "" = the policy document names none
    if cadence and cadence not in CADENCES:
        raise MeetingError(_l("Choose a cadence from the list."), field="cadence")
    known = {str(d.id): d for d in departments()}
    office = (data.office_department_id or "").strip() or None
    if office is not None and office not in known:
        raise MeetingError(_l("Choose a department of this district."), field="office_department")
    members = []
    for raw in data.member_department_ids:
        if str(raw) not in known:
            raise MeetingError(
                _l("Choose a department of this district."), field="member_departments"
            )
        if str(raw) not in members:
            members.append(str(raw))
    conveners = [_text(c, "conveners", limit=100) for c in data.conveners]
    arr.name = name
    arr.cadence = cadence
    arr.chief_convener = _text(data.chief_convener, "chief_convener", limit=100)
    arr.conveners = [c for c in conveners if c]
    arr.office_department_id = uuid.UUID(office) if office else None
    arr.member_department_ids = members
    arr.note = _text(data.note, "note", limit=MAX_TEXT)
    flush()
    return arr


# --- schedule ----------------------------------------------------------------------------


@dataclass
class Schedule:
    cadence: str
    last_regular: Meeting | None
    next_due: dt.date | None
    stale: bool  # the last regular meeting is more than six months old (or there is none)
    upcoming: list[Meeting]
    today: dt.date


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
    months = CADENCE_MONTHS.get(cadence, 6 if cadence == "unspecified" else 0)
    next_due: dt.date | None = None
    if months:
        next_due = add_months(last_regular.meeting_date, months) if last_regular else on
    stale = cadence != "ad_hoc" and (
        last_regular is None or add_months(last_regular.meeting_date, 6) < on
    )
    return Schedule(cadence, last_regular, next_due, stale, upcoming, on)


# --- meetings ----------------------------------------------------------------------------


@dataclass
class MeetingInput:
    kind: str = "regular"
    period: str = ""
    title: str = ""
    meeting_date: Any = None
    start_time: str = ""
    place: str = ""
    chair: str = ""
    department_ids: list[str] | None = None  # None: the arrangement's members


def _clean_meeting(data: MeetingInput) -> dict[str, Any]:
    try:
        kind = MeetingKind(data.kind)
    except ValueError:
        raise MeetingError(_l("Choose regular or ad hoc."), field="kind") from None
    day = _date(data.meeting_date, "meeting_date")
    if not 2000 <= day.year <= 2100:
        raise MeetingError(_l("The date is out of range."), field="meeting_date")
    period = parse_period(data.period) if kind == MeetingKind.regular else None
    if kind == MeetingKind.ad_hoc and data.period:
        period = parse_period(data.period)
    start = _text(data.start_time, "start_time", limit=20)
    if start and not re.match(r"^\d{1,2}:\d{2}$", start):
        raise MeetingError(_l("The time must look like 09:30."), field="start_time")
    return {
        "kind": kind,
        "period": period,
        "title": _text(data.title, "title", limit=200),
        "meeting_date": day,
        "start_time": start,
        "place": _text(data.place, "place", limit=200),
        "chair": _text(data.chair, "chair", limit=100),
    }


def default_title(kind: MeetingKind, period: str | None) -> str:
    arr = arrangement()
    name = (arr.name if arr and arr.name else "") or "联席会议"
    if kind == MeetingKind.regular and period:
        half = "上半年" if period.endswith("H1") else "下半年"
        return f"{name}{period[:4]}年{half}例会"
    return f"{name}专题会议"


def next_sequence(year: int) -> int:
    current = db.session.execute(
        sa.select(sa.func.max(Meeting.sequence)).where(Meeting.year == year)
    ).scalar()
    return int(current or 0) + 1


def create_meeting(user: Any, data: MeetingInput, draft: bool = True) -> Meeting:
    """A new meeting with its invitations and (by default) a draft agenda from live data."""
    _require(user, Role.district_lead)
    values = _clean_meeting(data)
    if not values["title"]:
        values["title"] = default_title(values["kind"], values["period"])
    if not values["chair"]:
        arr = arrangement()
        values["chair"] = arr.chief_convener if arr else ""
    if data.department_ids is None:
        invited = member_departments()
    else:
        known = {str(d.id): d for d in departments()}
        invited = []
        for raw in data.department_ids:
            if str(raw) not in known:
                raise MeetingError(_l("Choose a department of this district."), field="departments")
            if known[str(raw)] not in invited:
                invited.append(known[str(raw)])
    if not invited:
        raise MeetingError(_l("Invite at least one department."), field="departments")
    year = values["meeting_date"].year
    meeting = Meeting(
        **values,
        year=year,
        sequence=next_sequence(year),
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(meeting)
    flush()
    for d in invited:
        db.session.add(MeetingInvitation(meeting_id=meeting.id, department_id=d.id))
    db.session.add(Minutes(meeting_id=meeting.id))
    flush()
    events.meeting_invited.send(meeting, department_ids=[d.id for d in invited], actor=user)
    if draft:
        redraft_agenda(user, meeting)
    return meeting


def update_meeting(user: Any, meeting: Meeting, data: MeetingInput, expected_version: Any = None):
    _require(user, Role.district_lead)
    check_version(meeting, expected_version)
    values = _clean_meeting(data)
    if not values["title"]:
        values["title"] = meeting.title
    if values["meeting_date"].year != meeting.year:
        values["year"] = values["meeting_date"].year
        values["sequence"] = next_sequence(values["year"])
    for k, v in values.items():
        setattr(meeting, k, v)
    flush()
    return meeting


def set_status(user: Any, meeting: Meeting, status: str, expected_version: Any = None) -> Meeting:
    _require(user, Role.district_lead)
    check_version(meeting, expected_version)
    try:
        meeting.status = MeetingStatus(status)
    except ValueError:
        raise MeetingError(_l("Unknown meeting status."), field="status") from None
    flush()
    return meeting


def meetings_query(kind: str | None = None, year: int | None = None) -> sa.Select:
    q = sa.select(Meeting).order_by(Meeting.meeting_date.desc(), Meeting.sequence.desc())
    if kind in {k.value for k in MeetingKind}:
        q = q.where(Meeting.kind == kind)
    if year:
        q = q.where(Meeting.year == year)
    return q


def get_meeting(meeting_id: Any) -> Meeting | None:
    return scope.get_scoped(Meeting, meeting_id)


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


# --- live data: status matrix, overdue and returned duties, open action items -------------


@dataclass
class MatrixRow:
    department_id: uuid.UUID
    department: str
    counts: dict[str, int]
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def status_matrix(period: str, as_of: dt.date | None = None) -> list[MatrixRow]:
    """Departments × duty status counts (plus overdue) for a period, in one query."""
    as_of = as_of or today()
    overdue = sa.case((sa.and_(Duty.status.not_in(SIGNED), Duty.due_date < as_of), 1), else_=0)
    rows = db.session.execute(
        sa.select(
            Department.id, Department.name, Duty.status, sa.func.count(), sa.func.sum(overdue)
        )
        .join(Duty, Duty.department_id == Department.id)
        .where(Duty.period == period)
        .group_by(Department.id, Department.name, Department.sort_order, Duty.status)
        .order_by(Department.sort_order, Department.name)
    ).all()
    matrix: dict[uuid.UUID, MatrixRow] = {}
    for dept_id, name, status, n, late in rows:
        row = matrix.setdefault(dept_id, MatrixRow(dept_id, name, {s.value: 0 for s in DutyStatus}))
        row.counts[DutyStatus(status).value] += int(n)
        row.overdue += int(late or 0)
    return list(matrix.values())


@dataclass
class DutyLine:
    id: uuid.UUID
    period: str
    department: str
    measure_number: str
    measure_title: str
    due_date: dt.date
    status: str
    note: str = ""


def _duty_lines(condition: sa.ColumnElement[bool], limit: int = 500) -> list[DutyLine]:
    rows = db.session.execute(
        sa.select(
            Duty.id,
            Duty.period,
            Department.name,
            Duty.measure_number,
            Measure.title,
            Duty.due_date,
            Duty.status,
            Duty.review_note,
        )
        .join(Department, Department.id == Duty.department_id)
        .join(Measure, Measure.id == Duty.measure_id)
        .where(condition)
        .order_by(Duty.due_date, Department.sort_order, Duty.measure_number)
        .limit(limit)
    ).all()
    return [
        DutyLine(i, p, dn, num, title, due, DutyStatus(st).value, note or "")
        for i, p, dn, num, title, due, st, note in rows
    ]


def reference_date(meeting: Meeting) -> dt.date:
    """'Overdue' is judged as of the meeting date when it lies ahead: a duty due before the
    meeting and not signed off is overdue by the time the meeting discusses it."""
    return max(today(), meeting.meeting_date)


def meeting_period(meeting: Meeting) -> str:
    return meeting.period or period_for(meeting.meeting_date)


def overdue_duties(as_of: dt.date, up_to_period: str) -> list[DutyLine]:
    return _duty_lines(
        sa.and_(Duty.status.not_in(SIGNED), Duty.due_date < as_of, Duty.period <= up_to_period)
    )


def returned_duties(up_to_period: str) -> list[DutyLine]:
    return _duty_lines(sa.and_(Duty.status == DutyStatus.returned, Duty.period <= up_to_period))


def open_action_items(before: Meeting | None = None) -> list[ActionItem]:
    """Open action items of earlier meetings (all meetings but `before`), oldest due first."""
    q = (
        sa.select(ActionItem)
        .where(ActionItem.status == ActionStatus.open)
        .order_by(ActionItem.due_date, ActionItem.created_at)
    )
    if before is not None:
        q = q.where(ActionItem.meeting_id != before.id)
    return list(db.session.execute(q).unique().scalars())


# --- agenda ------------------------------------------------------------------------------


@dataclass
class AgendaDraft:
    title: str
    detail: str
    source: str


def _status_label(status: str) -> str:
    return {
        "not_started": "未开始",
        "in_progress": "进行中",
        "submitted": "已签报",
        "accepted": "已审核通过",
        "returned": "被退回",
    }.get(status, status)


def draft_agenda(meeting: Meeting) -> list[AgendaDraft]:
    """The agenda drafted from live data, in the customary order of a joint meeting.

    Agenda texts are written in Chinese: they become the meeting's own documents.
    """
    period = meeting_period(meeting)
    as_of = reference_date(meeting)
    items: list[AgendaDraft] = []
    if meeting.kind == MeetingKind.regular:
        prev = previous_regular(meeting)
        if prev is not None:
            items.append(
                AgendaDraft(
                    f"审议确认上次会议（{prev.number}）纪要",
                    f"{prev.title}，{prev.meeting_date.isoformat()}。",
                    "confirm_minutes",
                )
            )
    matrix = status_matrix(period, as_of)
    if matrix:
        lines = []
        for row in matrix:
            c = row.counts
            lines.append(
                f"- {row.department}：职责 {row.total} 项，已审核通过 {c['accepted']}，"
                f"已签报 {c['submitted']}，进行中 {c['in_progress']}，未开始 {c['not_started']}，"
                f"被退回 {c['returned']}，逾期 {row.overdue}"
            )
        detail = "\n".join(lines)
    else:
        detail = f"{period} 尚未生成职责。"
    items.append(AgendaDraft(f"通报{period}各成员单位职责落实情况", detail, "period_status"))
    overdue = overdue_duties(as_of, period)
    if overdue:
        items.append(
            AgendaDraft(
                f"研究逾期未签报职责（{len(overdue)}项）",
                "\n".join(
                    f"- {d.department}：{d.measure_number} {d.measure_title}"
                    f"（{d.period}，应于{d.due_date.isoformat()}前签报，{_status_label(d.status)}）"
                    for d in overdue
                ),
                "overdue_duties",
            )
        )
    returned = returned_duties(period)
    if returned:
        items.append(
            AgendaDraft(
                f"研究被退回职责（{len(returned)}项）",
                "\n".join(
                    f"- {d.department}：{d.measure_number} {d.measure_title}（{d.period}）"
                    + (f"，退回意见：{d.note}" if d.note else "")
                    for d in returned
                ),
                "returned_duties",
            )
        )
    actions = open_action_items(before=meeting)
    if actions:
        late = sum(1 for a in actions if a.is_overdue(as_of))
        items.append(
            AgendaDraft(
                f"督办上次会议议定事项落实情况（未办结{len(actions)}项，其中逾期{late}项）",
                "\n".join(
                    f"- {a.department.name}：{a.text}（{a.meeting.number}会议，"
                    f"限{a.due_date.isoformat()}前办结{'，已逾期' if a.is_overdue(as_of) else ''}）"
                    for a in actions
                ),
                "action_items",
            )
        )
    items.append(AgendaDraft("各成员单位汇报工作情况", "各成员单位书面汇报见会议材料。", "reports"))
    items.append(AgendaDraft("研究部署下一阶段工作", "", "next_steps"))
    return items


def redraft_agenda(user: Any, meeting: Meeting) -> list[AgendaItem]:
    """Replace the agenda with a fresh draft from live data (hand edits are lost: the UI
    asks for confirmation)."""
    _require(user, Role.district_lead)
    for item in agenda(meeting):
        db.session.delete(item)
    flush()
    items = []
    for i, d in enumerate(draft_agenda(meeting)):
        item = AgendaItem(
            meeting_id=meeting.id, position=i + 1, title=d.title, detail=d.detail, source=d.source
        )
        db.session.add(item)
        items.append(item)
    flush()
    return items


def agenda(meeting: Meeting) -> list[AgendaItem]:
    return list(
        db.session.execute(
            sa.select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        ).scalars()
    )


def _agenda_item(meeting: Meeting, item_id: Any) -> AgendaItem:
    for item in agenda(meeting):
        if str(item.id) == str(item_id):
            return item
    from werkzeug.exceptions import NotFound

    raise NotFound()


def add_agenda_item(user: Any, meeting: Meeting, title: str, detail: str = "") -> AgendaItem:
    _require(user, Role.district_lead)
    items = agenda(meeting)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=(items[-1].position + 1) if items else 1,
        title=_text(title, "title", required=True),
        detail=_text(detail, "detail", limit=MAX_TEXT),
    )
    db.session.add(item)
    flush()
    return item


def update_agenda_item(user: Any, meeting: Meeting, item_id: Any, title: str, detail: str):
    _require(user, Role.district_lead)
    item = _agenda_item(meeting, item_id)
    item.title = _text(title, "title", required=True)
    item.detail = _text(detail, "detail", limit=MAX_TEXT)
    flush()
    return item


def move_agenda_item(user: Any, meeting: Meeting, item_id: Any, direction: str) -> None:
    """Move one place up or down; positions are renumbered 1…n."""
    _require(user, Role.district_lead)
    items = agenda(meeting)
    index = next((i for i, it in enumerate(items) if str(it.id) == str(item_id)), None)
    if index is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise MeetingError(_l("Move up or down."), field="direction")
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    for i, it in enumerate(items):
        if it.position != i + 1:
            it.position = i + 1
    flush()


def reorder_agenda(user: Any, meeting: Meeting, ordered_ids: list[str]) -> None:
    _require(user, Role.district_lead)
    items = {str(i.id): i for i in agenda(meeting)}
    if sorted(ordered_ids) != sorted(items):
        raise MeetingError(_l("The new order must list every agenda item once."), field="order")
    for pos, ident in enumerate(ordered_ids):
        if items[ident].position != pos + 1:
            items[ident].position = pos + 1
    flush()


def delete_agenda_item(user: Any, meeting: Meeting, item_id: Any) -> None:
    _require(user, Role.district_lead)
    db.session.delete(_agenda_item(meeting, item_id))
    flush()
    for i, it in enumerate(agenda(meeting)):
        if it.position != i + 1:
            it.position = i + 1
    flush()


# --- invitations and attendance --------------------------------------------------------


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


def record_attendance(user: Any, meeting: Meeting, marks: dict[str, tuple[str, str]]) -> None:
    """`marks`: department id → (attendance, delegate name). All or nothing."""
    _require(user, Role.district_lead)
    invs = {str(i.department_id): i for i in invitations(meeting)}
    for dept_id, (value, delegate) in marks.items():
        inv = invs.get(str(dept_id))
        if inv is None:
            raise MeetingError(_l("This department is not invited."), field=f"attendance-{dept_id}")
        try:
            status = Attendance(value)
        except ValueError:
            raise MeetingError(
                _l("Choose present, absent or delegate."), field=f"attendance-{dept_id}"
            ) from None
        name = _text(delegate, f"delegate-{dept_id}", limit=100)
        if status == Attendance.delegate and not name:
            raise MeetingError(
                _l(
                    "Give the name of the delegate who attended for %(dept)s.",
                    dept=inv.department.name,
                ),
                field=f"delegate-{dept_id}",
            )
        if status != Attendance.delegate:
            name = ""
        if inv.attendance != status:
            inv.attendance = status
        if inv.delegate_name != name:
            inv.delegate_name = name
    if any(i.attendance != Attendance.unknown for i in invs.values()) and (
        meeting.status == MeetingStatus.planned
    ):
        meeting.status = MeetingStatus.held
    flush()


def invite(user: Any, meeting: Meeting, department_id: Any) -> MeetingInvitation:
    _require(user, Role.district_lead)
    known = {str(d.id) for d in departments()}
    if str(department_id) not in known:
        raise MeetingError(_l("Choose a department of this district."), field="department")
    for inv in invitations(meeting):
        if str(inv.department_id) == str(department_id):
            return inv
    inv = MeetingInvitation(meeting_id=meeting.id, department_id=uuid.UUID(str(department_id)))
    db.session.add(inv)
    flush()
    events.meeting_invited.send(meeting, department_ids=[inv.department_id], actor=user)
    return inv


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


# --- department reports ----------------------------------------------------------------


@dataclass
class ReportDraft:
    body: str
    families_reached: int
    amount_paid: decimal.Decimal
    not_delivered: str


def draft_report(meeting: Meeting, department_id: uuid.UUID) -> ReportDraft:
    """A report drafted from the department's duties of the meeting's period: progress
    entries (families reached, amounts paid), sign-offs, and what was not delivered and why."""
    period = meeting_period(meeting)
    as_of = reference_date(meeting)
    duties = list(
        db.session.execute(
            sa.select(Duty)
            .where(Duty.period == period, Duty.department_id == department_id)
            .order_by(Duty.measure_number)
        )
        .unique()
        .scalars()
    )
    entries: dict[uuid.UUID, list[ProgressEntry]] = defaultdict(list)
    if duties:
        for e in db.session.execute(
            sa.select(ProgressEntry)
            .where(ProgressEntry.duty_id.in_([d.id for d in duties]))
            .order_by(ProgressEntry.work_date)
        ).scalars():
            entries[e.duty_id].append(e)
    families = 0
    amount = decimal.Decimal("0")
    lines = [f"## {period} 职责落实情况", ""]
    missing = []
    for d in duties:
        es = entries.get(d.id, [])
        f = sum(e.families_reached for e in es)
        a = sum((e.amount_paid for e in es), decimal.Decimal("0"))
        families += f
        amount += a
        lines.append(f"### {d.measure_number} {d.measure.title}")
        summary = f"状态：{_status_label(d.status.value)}；服务家庭 {f} 户次；发放金额 {a:.2f} 元。"
        lines.append(summary)
        for e in es[-3:]:
            lines.append(f"- {e.work_date.isoformat()}：{e.narrative}")
        if d.sign_off_statement:
            lines.append(f"签报说明：{d.sign_off_statement}")
        lines.append("")
        reason = ""
        if d.assessment in (Assessment.partly, Assessment.not_delivered):
            reason = d.assessment_reason or "（未说明原因）"
            label = "部分落实" if d.assessment == Assessment.partly else "未落实"
            missing.append(f"- {d.measure_number} {d.measure.title}：{label}。{reason}")
        elif d.status not in SIGNED and d.due_date < as_of:
            missing.append(f"- {d.measure_number} {d.measure.title}：逾期未签报。")
        elif d.status == DutyStatus.returned:
            note = f"退回意见：{d.review_note}" if d.review_note else ""
            missing.append(f"- {d.measure_number} {d.measure.title}：签报被退回。{note}")
    if not duties:
        lines.append("本期无职责。")
    lines.insert(
        2,
        f"本期共承担职责 {len(duties)} 项，已签报 {sum(1 for d in duties if d.status in SIGNED)} 项，"
        f"累计服务特殊家庭 {families} 户次，发放资金 {amount:.2f} 元。\n",
    )
    return ReportDraft("\n".join(lines).strip(), families, amount, "\n".join(missing))


def get_report(meeting: Meeting, department_id: uuid.UUID) -> DepartmentReport | None:
    return db.session.execute(
        sa.select(DepartmentReport).where(
            DepartmentReport.meeting_id == meeting.id,
            DepartmentReport.department_id == department_id,
        )
    ).scalar_one_or_none()


def _invitation(meeting: Meeting, department_id: uuid.UUID) -> MeetingInvitation | None:
    return db.session.execute(
        sa.select(MeetingInvitation).where(
            MeetingInvitation.meeting_id == meeting.id,
            MeetingInvitation.department_id == department_id,
        )
    ).scalar_one_or_none()


def report_for(user: Any, meeting: Meeting, department_id: uuid.UUID) -> DepartmentReport:
    """The department's report, drafted from its duties on first open (officer only)."""
    _require(user, Role.dept_officer)
    if user.department_id != department_id or _invitation(meeting, department_id) is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    report = get_report(meeting, department_id)
    if report is None:
        d = draft_report(meeting, department_id)
        report = DepartmentReport(
            meeting_id=meeting.id,
            department_id=department_id,
            body=d.body,
            families_reached=d.families_reached,
            amount_paid=d.amount_paid,
            not_delivered=d.not_delivered,
        )
        db.session.add(report)
        flush()
    return report


@dataclass
class ReportInput:
    body: str = ""
    families_reached: Any = 0
    amount_paid: Any = 0
    not_delivered: str = ""


def save_report(
    user: Any, report: DepartmentReport, data: ReportInput, submit: bool, expected_version: Any
) -> DepartmentReport:
    _require(user, Role.dept_officer)
    check_version(report, expected_version)
    if report.status == ReportStatus.submitted:
        raise MeetingError(_l("This report has been submitted and can no longer be changed."))
    body = _text(data.body, "body", required=submit, limit=MAX_TEXT)
    try:
        families = int(str(data.families_reached).strip() or 0)
        if families < 0 or families > 10_000_000:
            raise ValueError
    except ValueError:
        raise MeetingError(
            _l("Families reached must be a whole number of 0 or more."), field="families_reached"
        ) from None
    try:
        amount = decimal.Decimal(str(data.amount_paid).strip() or "0")
        if not amount.is_finite() or amount < 0 or amount >= 10**12:
            raise decimal.InvalidOperation
        amount = amount.quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise MeetingError(
            _l("The amount paid must be a number of 0 or more (yuan)."), field="amount_paid"
        ) from None
    report.body = body
    report.families_reached = families
    report.amount_paid = amount
    report.not_delivered = _text(data.not_delivered, "not_delivered", limit=MAX_TEXT)
    report.updated_at = utcnow()
    if submit:
        report.status = ReportStatus.submitted
        report.submitted_at = utcnow()
        report.submitted_by_id = user.id
    flush()
    if submit:
        trail.record(
            db.session,
            "report_submitted",
            entity_type="DepartmentReport",
            entity_id=report.id,
            department_id=report.department_id,
            summary="department report submitted",
        )
    return report


def reopen_report(user: Any, report: DepartmentReport) -> DepartmentReport:
    """The lead sends a submitted report back to draft (e.g. a correction is needed)."""
    _require(user, Role.district_lead)
    if report.status != ReportStatus.submitted:
        raise MeetingError(_l("Only a submitted report can be returned."))
    report.status = ReportStatus.draft
    flush()
    return report


@dataclass
class ReportTracking:
    invitation: MeetingInvitation
    report: DepartmentReport | None

    @property
    def submitted(self) -> bool:
        return self.report is not None and self.report.status == ReportStatus.submitted


def report_tracking(meeting: Meeting) -> list[ReportTracking]:
    """Every invited department with its report (if any): who has and has not submitted."""
    reports = {
        r.department_id: r
        for r in db.session.execute(
            sa.select(DepartmentReport).where(DepartmentReport.meeting_id == meeting.id)
        )
        .unique()
        .scalars()
    }
    return [ReportTracking(inv, reports.get(inv.department_id)) for inv in invitations(meeting)]


def submitted_reports(meeting: Meeting) -> list[DepartmentReport]:
    return [t.report for t in report_tracking(meeting) if t.submitted and t.report]


# --- minutes ---------------------------------------------------------------------------


def minutes_of(meeting: Meeting, create: bool = True) -> Minutes:
    """The meeting's minutes; with `create=False` a missing row is an unsaved empty draft
    (read-only callers such as auditors never write)."""
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
        if create:
            db.session.add(m)
            flush()
    return m


def save_minutes(user: Any, meeting: Meeting, body: str, expected_version: Any = None) -> Minutes:
    _require(user, Role.district_lead)
    m = minutes_of(meeting)
    check_version(m, expected_version)
    if m.locked:
        raise MeetingError(
            _l("The minutes are finalised and locked; reopen them (with a reason) to edit."),
            field="body",
        )
    m.body = _text(body, "body", limit=MAX_TEXT * 5)
    m.updated_at = utcnow()
    flush()
    return m


def circulate_minutes(user: Any, meeting: Meeting, expected_version: Any = None) -> Minutes:
    _require(user, Role.district_lead)
    m = minutes_of(meeting)
    check_version(m, expected_version)
    if m.status != MinutesStatus.draft:
        raise MeetingError(_l("Only draft minutes can be circulated."))
    if not m.body.strip():
        raise MeetingError(_l("Write the minutes before circulating them."), field="body")
    m.status = MinutesStatus.circulated
    m.circulated_at = utcnow()
    flush()
    trail.record(
        db.session,
        "minutes_circulated",
        entity_type="Minutes",
        entity_id=m.id,
        summary=f"minutes of {meeting.number} circulated for comments",
    )
    return m


def finalise_minutes(user: Any, meeting: Meeting, expected_version: Any = None) -> Minutes:
    _require(user, Role.district_lead)
    m = minutes_of(meeting)
    check_version(m, expected_version)
    if m.status == MinutesStatus.finalised:
        raise MeetingError(_l("The minutes are already finalised."))
    if not m.body.strip():
        raise MeetingError(_l("Write the minutes before finalising them."), field="body")
    m.status = MinutesStatus.finalised
    m.finalised_at = utcnow()
    m.finalised_by_id = user.id
    if meeting.status == MeetingStatus.planned:
        meeting.status = MeetingStatus.held
    flush()
    trail.record(
        db.session,
        "minutes_finalised",
        entity_type="Minutes",
        entity_id=m.id,
        summary=f"minutes of {meeting.number} finalised",
    )
    return m


def reopen_minutes(user: Any, meeting: Meeting, reason: str, expected_version: Any = None):
    """Reopening finalised minutes is an explicit act with a reason, in the audit trail."""
    _require(user, Role.district_lead)
    m = minutes_of(meeting)
    check_version(m, expected_version)
    if m.status != MinutesStatus.finalised:
        raise MeetingError(_l("Only finalised minutes can be reopened."))
    reason = _text(reason, "reason", required=True, limit=1000)
    if len(reason) < 4:
        raise MeetingError(_l("Say why the minutes are reopened."), field="reason")
    m.status = MinutesStatus.draft
    m.reopen_count += 1
    m.last_reopen_reason = reason
    m.finalised_at = None
    flush()
    trail.record(
        db.session,
        "minutes_reopened",
        entity_type="Minutes",
        entity_id=m.id,
        summary=f"minutes of {meeting.number} reopened: {reason}"[:400],
        data={"reason": reason},
    )
    return m


def comment_on_minutes(user: Any, meeting: Meeting, body: str) -> MinutesComment:
    _require(user, Role.dept_officer)
    m = minutes_of(meeting)
    if m.status != MinutesStatus.circulated:
        raise MeetingError(_l("Comments are taken only while the minutes are circulated."))
    if _invitation(meeting, user.department_id) is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    c = MinutesComment(
        meeting_id=meeting.id,
        department_id=user.department_id,
        author_id=user.id,
        body=_text(body, "comment", required=True, limit=5000),
    )
    db.session.add(c)
    flush()
    return c


def minutes_comments(meeting: Meeting) -> list[MinutesComment]:
    return list(
        db.session.execute(
            sa.select(MinutesComment)
            .where(MinutesComment.meeting_id == meeting.id)
            .order_by(MinutesComment.created_at)
        )
        .unique()
        .scalars()
    )


def render_markdown(text: str) -> str:
    """Markdown → HTML, sanitised with nh3 (no scripts, no inline handlers, no styles)."""
    import markdown
    import nh3

    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags={
            "p",
            "br",
            "strong",
            "em",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "blockquote",
            "code",
            "pre",
            "hr",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "a",
        },
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
    )


# --- decisions and action items ----------------------------------------------------------


@dataclass
class ActionInput:
    text: str
    department_ids: list[str]
    due_date: Any


def decisions(meeting: Meeting) -> list[Decision]:
    return list(
        db.session.execute(
            sa.select(Decision).where(Decision.meeting_id == meeting.id).order_by(Decision.number)
        ).scalars()
    )


def add_decision(
    user: Any, meeting: Meeting, text: str, actions: list[ActionInput] | None = None
) -> Decision:
    _require(user, Role.district_lead)
    if minutes_of(meeting).locked:
        raise MeetingError(
            _l("The minutes are finalised and locked; reopen them (with a reason) to edit."),
        )
    text = _text(text, "decision", required=True, limit=MAX_TEXT)
    number = (
        db.session.execute(
            sa.select(sa.func.max(Decision.number)).where(Decision.meeting_id == meeting.id)
        ).scalar()
        or 0
    ) + 1
    decision = Decision(meeting_id=meeting.id, number=number, text=text)
    db.session.add(decision)
    flush()
    for a in actions or []:
        add_action_items(user, decision, a)
    return decision


def update_decision(user: Any, decision: Decision, text: str, expected_version: Any = None):
    _require(user, Role.district_lead)
    check_version(decision, expected_version)
    meeting = decision.meeting
    if minutes_of(meeting).locked:
        raise MeetingError(
            _l("The minutes are finalised and locked; reopen them (with a reason) to edit."),
        )
    decision.text = _text(text, "decision", required=True, limit=MAX_TEXT)
    flush()
    return decision


def add_action_items(user: Any, decision: Decision, data: ActionInput) -> list[ActionItem]:
    """One action item per assigned department, all with the same text and due date."""
    _require(user, Role.district_lead)
    if minutes_of(decision.meeting, create=False).locked:
        raise MeetingError(
            _l("The minutes are finalised and locked; reopen them (with a reason) to edit."),
        )
    text = _text(data.text, "action_text", required=True, limit=MAX_TEXT)
    due = _date(data.due_date, "due_date")
    known = {str(d.id): d for d in departments()}
    chosen: list[str] = []
    for raw in data.department_ids:
        if str(raw) not in known:
            raise MeetingError(_l("Choose a department of this district."), field="departments")
        if str(raw) not in chosen:
            chosen.append(str(raw))
    if not chosen:
        raise MeetingError(_l("Assign the action to at least one department."), field="departments")
    items = []
    for ident in chosen:
        item = ActionItem(
            meeting_id=decision.meeting_id,
            decision_id=decision.id,
            department_id=known[ident].id,
            text=text,
            due_date=due,
        )
        db.session.add(item)
        items.append(item)
    flush()
    events.action_item_assigned.send(decision, items=items, actor=user)
    return items


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
    if status in {s.value for s in ActionStatus}:
        q = q.where(ActionItem.status == status)
    if overdue:
        q = q.where(ActionItem.status == ActionStatus.open, ActionItem.due_date < (on or today()))
    if meeting_id:
        q = q.where(ActionItem.meeting_id == meeting_id)
    if department_id:
        q = q.where(ActionItem.department_id == department_id)
    return q


def get_action_item(item_id: Any) -> ActionItem | None:
    return scope.get_scoped(ActionItem, item_id)


def update_action_item(
    user: Any, item: ActionItem, note: str, close: bool, expected_version: Any = None
) -> ActionItem:
    """The assigned department records progress or closes the item (closing needs a note)."""
    _require(user, Role.dept_officer)
    check_version(item, expected_version)
    if item.department_id != user.department_id:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    if item.status == ActionStatus.done:
        raise MeetingError(_l("This action item is already closed."))
    note = _text(note, "note", required=close, limit=5000)
    if close:
        if len(note) < 2:
            raise MeetingError(_l("Say how the action was completed."), field="note")
        item.status = ActionStatus.done
        item.closing_note = note
        item.closed_at = utcnow()
        item.closed_by_id = user.id
    else:
        if not note:
            raise MeetingError(_l("Write a progress note."), field="note")
        item.progress_note = note
    flush()
    if close:
        trail.record(
            db.session,
            "action_item_closed",
            entity_type="ActionItem",
            entity_id=item.id,
            department_id=item.department_id,
            summary=f"action item closed: {note}"[:400],
        )
    return item


def reopen_action_item(user: Any, item: ActionItem, reason: str) -> ActionItem:
    """The lead reopens a closed item (the closure was not accepted)."""
    _require(user, Role.district_lead)
    if item.status != ActionStatus.done:
        raise MeetingError(_l("Only a closed action item can be reopened."))
    reason = _text(reason, "reason", required=True, limit=1000)
    item.status = ActionStatus.open
    item.progress_note = f"重新打开：{reason}"
    item.closed_at = None
    flush()
    return item


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
    """Every decision of the meeting with its action items (one query each, no N+1)."""
    on = today()
    items: dict[uuid.UUID, list[ActionItem]] = defaultdict(list)
    for it in (
        db.session.execute(
            sa.select(ActionItem)
            .where(ActionItem.meeting_id == meeting.id)
            .order_by(ActionItem.created_at)
        )
        .unique()
        .scalars()
    ):
        items[it.decision_id].append(it)
    return [DecisionState(d, items.get(d.id, []), on) for d in decisions(meeting)]


# --- exports -----------------------------------------------------------------------------


def record_export(meeting: Meeting, kind: str) -> None:
    trail.record(
        db.session,
        "export",
        entity_type="Meeting",
        entity_id=meeting.id,
        summary=f"{kind} of {meeting.number} exported",
    )
