"""The meetings domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    find_in,
    link_to,
    names_from,
    register_actions,
    register_module,
    register_record_type,
)
from portal.meetings.models import (
    ActionItem,
    AgendaItem,
    Decision,
    DepartmentReport,
    Meeting,
    MeetingInvitation,
    Minutes,
    MinutesComment,
)
from portal.tenancy.models import Department

register_module("meetings", _l("Joint meetings"), order=50)

register_actions(
    "meetings",
    {
        "report_submitted": _l("Department report submitted"),
        "minutes_circulated": _l("Minutes circulated for comments"),
        "minutes_finalised": _l("Minutes finalised"),
        "minutes_reopened": _l("Minutes reopened"),
        "action_item_closed": _l("Action item closed"),
    },
)

STATUS_LABELS = {
    "planned": _l("planned"),
    "held": _l("held"),
    "cancelled": _l("cancelled"),
    "draft": _l("draft minutes"),
    "circulated": _l("circulated for comments"),
    "finalised": _l("finalised"),
    "submitted": _l("submitted"),
    "open": _l("open"),
    "done": _l("done"),
}
ATTENDANCE_LABELS = {
    "unknown": _l("not recorded"),
    "present": _l("present"),
    "absent": _l("absent"),
    "delegate": _l("delegate"),
}
FIELDS = {
    "title": _l("Title"),
    "meeting_date": _l("Date"),
    "start_time": _l("Time"),
    "place": _l("Place"),
    "chair": _l("Chair"),
    "detail": _l("Details"),
    "body": _l("Text"),
    "families_reached": _l("Families reached"),
    "amount_paid": _l("Amount paid"),
    "not_delivered": _l("Not delivered, and why"),
    "visit_id": _l("Care visit"),
    "delegate_name": _l("Delegate"),
    "attendees": _l("Attendees"),
    "attendance": _l("Attendance"),
    "text": _l("Decision"),
    "due_date": _l("Due date"),
    "kind": _l("Kind"),
    "period": _l("Period"),
    "note": _l("Note"),
}
KIND_LABELS = {
    "regular": _l("regular"),
    "ad_hoc": _l("ad hoc"),
    "minutes": _l("Minutes"),
    "prep-pack": _l("Preparation pack"),
}
VALUES = {"status": STATUS_LABELS, "attendance": ATTENDANCE_LABELS, "kind": KIND_LABELS}


def _of_meeting(
    model: Any, own: Callable[[Any], str], *columns: Any, department: bool = False
) -> Callable[[list[str]], dict[str, str]]:
    """A row of a meeting is named after its meeting, then itself (one query, columns only)."""
    joins = [(Meeting, Meeting.id == model.meeting_id)]
    if department:
        joins.append((Department, Department.id == model.department_id))
        columns = (*columns, Department.name.label("department"))
    return names_from(
        model,
        lambda row: f"{row.meeting} · {own(row)}".rstrip(" ·"),
        Meeting.title.label("meeting"),
        *columns,
        joins=joins,
    )


link = link_to("meetings.detail", "meeting_id")


def _record_type(name: str, label: Any, names: Any, **kwargs: Any) -> None:
    """Every meetings record type shares the field and value labels above."""
    register_record_type(name, label, fields=FIELDS, values=VALUES, names=names, **kwargs)


_record_type(
    "Meeting",
    _l("Joint meeting"),
    names_from(Meeting, lambda m: m.title, Meeting.title),
    find=find_in(Meeting, Meeting.title),
    link=link,
)
_record_type(
    "AgendaItem",
    _l("Agenda item"),
    _of_meeting(AgendaItem, lambda a: a.title, AgendaItem.title),
    find=find_in(AgendaItem, AgendaItem.title),
)
_record_type(
    "MeetingInvitation",
    _l("Invitation"),
    _of_meeting(MeetingInvitation, lambda i: i.department, department=True),
)
_record_type(
    "DepartmentReport",
    _l("Department report"),
    _of_meeting(DepartmentReport, lambda r: r.department, department=True),
)
_record_type("Minutes", _l("Minutes"), _of_meeting(Minutes, lambda m: ""))
_record_type(
    "MinutesComment",
    _l("Comment on the minutes"),
    _of_meeting(MinutesComment, lambda c: c.department, department=True),
)
_record_type(
    "Decision",
    _l("Decision"),
    _of_meeting(Decision, lambda d: d.text[:30], Decision.text),
    find=find_in(Decision, Decision.text),
)
_record_type(
    "ActionItem",
    _l("Action item"),
    _of_meeting(ActionItem, lambda a: a.text[:30], ActionItem.text),
    find=find_in(ActionItem, ActionItem.text),
)
