"""Operations: the arrangement, meetings (create, edit, state), invitations and attendance.

Services never commit: the request (or the CLI, or the demo) commits once. Numbers
(2026年第3次) are "highest + 1" under a unique constraint; two leads creating at the
same moment both succeed because the insert runs in a savepoint and is retried with the
next number when the constraint refuses it. A create form carries a one-time key: a
second submission of the same form finds the meeting the first one made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.kernel import events
from portal.kernel.periods import Period
from portal.meetings import queries, rules
from portal.meetings.models import (
    Attendance,
    Meeting,
    MeetingInvitation,
    MeetingKind,
    MeetingStatus,
    Minutes,
)
from portal.meetings.rules import MeetingError
from portal.policy.models import MeetingArrangement

NUMBER_ATTEMPTS = 8


def insert_numbered(row: Any, renumber: Callable[[Any], None]) -> Any:
    """Add `row` under a unique number: on a clash with a concurrent insert, take the next.

    Each try runs in a savepoint, so a refused insert (and its audit event) is undone
    without touching the rest of the transaction.
    """
    for _ in range(NUMBER_ATTEMPTS):
        renumber(row)
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
            return row
        except IntegrityError:
            # The savepoint's rollback expunged the row; a same-form twin may have won.
            existing = _same_request(row)
            if existing is not None:
                return existing
    raise rules.ConflictError(
        _l("Someone else saved the same record at the same moment; please try again.")
    )


def _same_request(row: Any) -> Any:
    """The row a concurrent submission of the same form already saved, if any."""
    key = getattr(row, "request_key", None)
    if not key:
        return None
    cls = type(row)
    q = sa.select(cls).where(cls.request_key == key)
    if hasattr(row, "number") and hasattr(cls, "meeting_id"):
        q = q.where(cls.meeting_id == row.meeting_id)
    return db.session.execute(q).scalars().first()


def chosen_departments(raw_ids: Any) -> list[Any]:
    """The district's departments a form chose, in the order chosen, each once; an id of
    no department of this district is refused beside the field."""
    known = {str(d.id): d for d in queries.departments()}
    chosen: list[Any] = []
    for raw in raw_ids:
        if str(raw) not in known:
            raise MeetingError(_l("Choose a department of this district."), field="departments")
        if known[str(raw)] not in chosen:
            chosen.append(known[str(raw)])
    return chosen


def find_by_request_key(model: Any, key: str | None, **where: Any) -> Any:
    if not key:
        return None
    q = sa.select(model).where(model.request_key == key)
    for name, value in where.items():
        q = q.where(getattr(model, name) == value)
    return db.session.execute(q).scalars().first()


def request_key(value: Any) -> str | None:
    key = str(value or "").strip()
    return key[:64] if key else None


# --- arrangement ----------------------------------------------------------------------------


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
    rules.require(user, rules.MANAGE)
    arr = queries.arrangement()
    if arr is None:
        arr = MeetingArrangement(name="")
        db.session.add(arr)
    else:
        rules.check_version(arr, expected_version)
    name = rules.text(data.name, "name", required=True, limit=200)
    cadence = (data.cadence or "").strip()  # "" = the policy document names none
    if cadence and cadence not in queries.CADENCES:
        raise MeetingError(_l("Choose a cadence from the list."), field="cadence")
    known = {str(d.id): d for d in queries.departments()}
    office = (data.office_department_id or "").strip() or None
    if office is not None and office not in known:
        raise MeetingError(_l("Choose a department of this district."), field="office_department")
    members: list[str] = []
    for raw in data.member_department_ids:
        if str(raw) not in known:
            raise MeetingError(
                _l("Choose a department of this district."), field="member_departments"
            )
        if str(raw) not in members:
            members.append(str(raw))
    conveners = [rules.text(c, "conveners", limit=100) for c in data.conveners]
    before = {
        "name": arr.name,
        "cadence": arr.cadence,
        "chief_convener": arr.chief_convener,
        "conveners": list(arr.conveners or []),
        "office_department": str(arr.office_department_id or ""),
        "member_departments": list(arr.member_department_ids or []),
    }
    arr.name = name
    arr.cadence = cadence
    arr.chief_convener = rules.text(data.chief_convener, "chief_convener", limit=100)
    arr.conveners = [c for c in conveners if c]
    arr.office_department_id = uuid.UUID(office) if office else None
    arr.member_department_ids = members
    arr.note = rules.text(data.note, "note", limit=rules.MAX_TEXT)
    after = {
        "name": arr.name,
        "cadence": arr.cadence,
        "chief_convener": arr.chief_convener,
        "conveners": arr.conveners,
        "office_department": str(arr.office_department_id or ""),
        "member_departments": arr.member_department_ids,
    }
    # A value the lead changes is the district's own decision, no longer 推定.
    if arr.inferred:
        arr.inferred = {k: v for k, v in arr.inferred.items() if before.get(k) == after.get(k)}
    rules.flush()
    return arr


# --- meetings ---------------------------------------------------------------------------------


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
    request_key: str | None = None  # the create form's one-time key


def _clean_meeting(data: MeetingInput) -> dict[str, Any]:
    try:
        kind = MeetingKind(data.kind)
    except ValueError:
        raise MeetingError(_l("Choose regular or ad hoc."), field="kind") from None
    day = rules.date(data.meeting_date, "meeting_date")
    period: Period | None = None
    if kind == MeetingKind.regular or str(data.period or "").strip():
        period = Period.parse(data.period, field="period")
    return {
        "kind": kind,
        "period": period.code if period else None,
        "title": rules.text(data.title, "title", limit=200),
        "meeting_date": day,
        "start_time": rules.start_time(data.start_time),
        "place": rules.text(data.place, "place", limit=200),
        "chair": rules.text(data.chair, "chair", limit=100),
    }


def default_title(kind: MeetingKind, period: str | None) -> str:
    arr = queries.arrangement()
    name = (arr.name if arr and arr.name else "") or "联席会议"
    if kind == MeetingKind.regular and period:
        return f"{name}{Period.parse(period).label_in('zh')}例会"
    return f"{name}专题会议"


def next_sequence(year: int) -> int:
    current = db.session.execute(
        sa.select(sa.func.max(Meeting.sequence)).where(Meeting.year == year)
    ).scalar()
    return int(current or 0) + 1


def _renumber_meeting(meeting: Meeting) -> None:
    meeting.sequence = next_sequence(meeting.year)


def create_meeting(user: Any, data: MeetingInput, draft: bool = True) -> Meeting:
    """A new meeting with its invitations and (by default) a draft agenda from live data.

    A second submission of the same form (same `request_key`) returns the first meeting.
    """
    rules.require(user, rules.MANAGE)
    key = request_key(data.request_key)
    earlier = find_by_request_key(Meeting, key)
    if earlier is not None:
        return earlier
    values = _clean_meeting(data)
    if not values["title"]:
        values["title"] = default_title(values["kind"], values["period"])
    if not values["chair"]:
        arr = queries.arrangement()
        values["chair"] = arr.chief_convener if arr else ""
    if data.department_ids is None:
        invited = queries.member_departments()
    else:
        invited = chosen_departments(data.department_ids)
    if not invited:
        raise MeetingError(_l("Invite at least one department."), field="departments")
    meeting = Meeting(
        **values,
        year=values["meeting_date"].year,
        sequence=0,
        request_key=key,
        created_by_id=getattr(user, "id", None),
    )
    saved = insert_numbered(meeting, _renumber_meeting)
    if saved is not meeting:
        return saved  # the same form, submitted twice at once: the first one's meeting
    for d in invited:
        db.session.add(MeetingInvitation(meeting_id=meeting.id, department_id=d.id))
    db.session.add(Minutes(meeting_id=meeting.id))
    rules.flush()
    events.meeting_invited.send(meeting, department_ids=[d.id for d in invited], actor=user)
    if draft:
        from portal.meetings import agenda

        agenda.redraft_agenda(user, meeting)
    return meeting


def update_meeting(user: Any, meeting: Meeting, data: MeetingInput, expected_version: Any):
    rules.require(user, rules.MANAGE)
    rules.check_version(meeting, expected_version)
    values = _clean_meeting(data)
    if not values["title"]:
        values["title"] = meeting.title
    year_changed = values["meeting_date"].year != meeting.year
    for k, v in values.items():
        setattr(meeting, k, v)
    if year_changed:
        meeting.year = values["meeting_date"].year
        meeting.sequence = next_sequence(meeting.year)
    rules.flush()
    return meeting


def _change_status(meeting: Meeting, status: str) -> None:
    """A state from the list, and `held` only from the meeting's date."""
    try:
        value = MeetingStatus(status)
    except ValueError:
        raise MeetingError(_l("Choose a state from the list."), field="status") from None
    rules.check_held_date(meeting, value)
    meeting.status = value


def set_status(user: Any, meeting: Meeting, status: str, expected_version: Any) -> Meeting:
    """The lead's act: planned → held (from the meeting's date) or cancelled."""
    rules.require(user, rules.MANAGE)
    rules.check_version(meeting, expected_version)
    _change_status(meeting, status)
    rules.flush()
    return meeting


def save_meeting(
    user: Any, meeting: Meeting, data: MeetingInput, status: str | None, expected_version: Any
) -> Meeting:
    """The edit form: details and (when changed) the state, under one version check."""
    rules.require(user, rules.MANAGE)
    rules.check_version(meeting, expected_version)
    if status and status != meeting.status.value:
        _change_status(meeting, status)
    return update_meeting(user, meeting, data, meeting.row_version)


# --- invitations and attendance ----------------------------------------------------------------


def invite(user: Any, meeting: Meeting, department_id: Any) -> MeetingInvitation:
    rules.require(user, rules.MANAGE)
    rules.check_open(queries.minutes_of(meeting), field="department")
    known = {str(d.id) for d in queries.departments()}
    if str(department_id) not in known:
        raise MeetingError(_l("Choose a department of this district."), field="department")
    for inv in queries.invitations(meeting):
        if str(inv.department_id) == str(department_id):
            return inv
    inv = MeetingInvitation(meeting_id=meeting.id, department_id=uuid.UUID(str(department_id)))
    db.session.add(inv)
    rules.flush()
    events.meeting_invited.send(meeting, department_ids=[inv.department_id], actor=user)
    return inv


class AttendanceErrors(MeetingError):
    """Every row's problem at once, so the form can show each beside its row."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(
            _l("Attendance was not saved: correct the rows marked below."), field="attendance"
        )
        self.errors = {k: str(v) for k, v in errors.items()}


ATTENDEES_MAX = 300
_NAME_SEPARATORS = re.compile(r"\s*[,，;；/、\n]+\s*")


def clean_attendees(text: Any) -> str:
    """Names as a sign-in sheet lists them: one 、 between names, whatever was typed."""
    names = [n for n in _NAME_SEPARATORS.split(str(text or "").strip()) if n]
    return "、".join(dict.fromkeys(names))


def record_attendance(
    user: Any,
    meeting: Meeting,
    marks: dict[str, tuple[str, str]],
    attendees: dict[str, str] | None = None,
) -> None:
    """`marks`: department id → (attendance, delegate name); `attendees`: department id →
    the names of those who attended for it. All rows or none.

    Recording attendance never changes the meeting's state (that follows its date and
    the lead's own action).
    """
    rules.require(user, rules.MANAGE)
    rules.check_open(queries.minutes_of(meeting), field="attendance")
    rules.check_attendance_day(meeting)
    invs = {str(i.department_id): i for i in queries.invitations(meeting)}
    errors: dict[str, Any] = {}
    clean: dict[str, tuple[Attendance, str, str | None]] = {}
    for dept_id, (value, delegate) in marks.items():
        inv = invs.get(str(dept_id))
        if inv is None:
            errors[f"attendance-{dept_id}"] = _l("This department is not invited.")
            continue
        try:
            status = Attendance(value)
        except ValueError:
            errors[f"attendance-{dept_id}"] = _l("Choose present, absent or delegate.")
            continue
        name = str(delegate or "").strip()
        if len(name) > 100:
            errors[f"delegate-{dept_id}"] = _l("At most %(n)s characters.", n=100)
            continue
        if status == Attendance.delegate and not name:
            errors[f"delegate-{dept_id}"] = _l("Give the name of the delegate who attended.")
            continue
        people: str | None = None
        if attendees is not None and str(dept_id) in attendees:
            people = clean_attendees(attendees[str(dept_id)])
            if len(people) > ATTENDEES_MAX:
                errors[f"attendees-{dept_id}"] = _l("At most %(n)s characters.", n=ATTENDEES_MAX)
                continue
            if people and status in (Attendance.absent, Attendance.unknown):
                errors[f"attendees-{dept_id}"] = _l(
                    "Names of attendees go with present or delegate."
                )
                continue
        clean[str(dept_id)] = (status, name if status == Attendance.delegate else "", people)
    if errors:
        raise AttendanceErrors(errors)
    for dept_id, (status, name, people) in clean.items():
        inv = invs[dept_id]
        if inv.attendance != status:
            inv.attendance = status
        if inv.delegate_name != name:
            inv.delegate_name = name
        if people is not None and inv.attendees != people:
            inv.attendees = people
    rules.flush()
