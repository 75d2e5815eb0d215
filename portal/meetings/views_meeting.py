"""The meeting page's forms (thin; rules live in the operations): show one meeting, edit
it, its agenda, attendance, invitations, minutes and decisions with their action items.

Routes on the meetings blueprint (`portal.meetings.views.bp`); every write runs through
`run_form` (the kernel's unit of work), which keeps the input on a broken rule."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.meetings import agenda as agenda_ops
from portal.meetings import arrangement as arrangement_ops
from portal.meetings import decisions as decision_ops
from portal.meetings import minutes as minutes_ops
from portal.meetings import queries, rules
from portal.meetings.models import Attendance, Meeting
from portal.meetings.views import FormState, on_meeting, render_detail, run_form
from portal.webhelpers import found_or_404


@on_meeting("", "meeting.read", methods=("GET",))
def detail(meeting: Meeting) -> Any:
    return render_detail(meeting)


@on_meeting("/edit", "meeting.manage")
def edit(meeting: Meeting) -> Any:
    form = FormState("edit-meeting", request.form)
    data = arrangement_ops.MeetingInput(
        kind=form.get("kind", meeting.kind.value),
        period=form.get("period", meeting.period or ""),
        title=form.get("title"),
        meeting_date=form.get("meeting_date"),
        start_time=form.get("start_time"),
        place=form.get("place"),
        chair=form.get("chair"),
    )

    def run() -> str:
        arrangement_ops.save_meeting(
            current_user, meeting, data, form.get("status") or None, form.get("row_version")
        )
        return _("The meeting was saved.")

    return run_form(meeting, form, run, "meeting-head")


@on_meeting("/agenda", "meeting.manage")
def agenda_action(meeting: Meeting) -> Any:
    f = request.form
    op = f.get("op", "")
    item = f.get("item", "")
    form = FormState(f"agenda-{item}" if op == "edit" else f"agenda-{op}", f)

    def run() -> str:
        if op == "redraft":
            agenda_ops.redraft_agenda(current_user, meeting)
            return _("The agenda was drafted again from live data.")
        if op == "circulate":
            agenda_ops.circulate_agenda(current_user, meeting)
            return _("The agenda was circulated to the invited departments.")
        if op == "add":
            agenda_ops.add_agenda_item(
                current_user, meeting, f.get("title", ""), f.get("detail", "")
            )
            return _("The agenda item was added.")
        if op == "edit":
            agenda_ops.update_agenda_item(
                current_user, meeting, item, f.get("title", ""), f.get("detail", "")
            )
            return _("The agenda item was saved.")
        if op in ("up", "down"):
            agenda_ops.move_agenda_item(current_user, meeting, item, op)
            return _("The agenda was reordered.")
        if op == "delete":
            agenda_ops.delete_agenda_item(current_user, meeting, item)
            return _("The agenda item was removed.")
        abort(400)

    return run_form(meeting, form, run, "agenda")


@on_meeting("/attendance", "meeting.manage")
def attendance(meeting: Meeting) -> Any:
    form = FormState("attendance", request.form)
    everyone = form.get("all_present") == "1"  # 全部出席: every department present
    marks = {}
    people = {}
    for inv in queries.invitations(meeting):
        key = str(inv.department_id)
        marks[key] = (
            Attendance.present.value
            if everyone
            else form.get(f"attendance-{key}", inv.attendance.value),
            "" if everyone else form.get(f"delegate-{key}", ""),
        )
        if f"attendees-{key}" in form.data:
            people[key] = form.get(f"attendees-{key}", "")

    def run() -> str:
        arrangement_ops.record_attendance(current_user, meeting, marks, people)
        if everyone:
            return _("Every invited department is recorded as present.")
        return _("Attendance was recorded.")

    return run_form(meeting, form, run, "attendance")


@on_meeting("/invite", "meeting.manage")
def invite(meeting: Meeting) -> Any:
    form = FormState("invite", request.form)

    def run() -> str:
        arrangement_ops.invite(current_user, meeting, form.get("department"))
        return _("The department was invited.")

    return run_form(meeting, form, run, "attendance")


@on_meeting("/minutes", "meeting.read")
def minutes(meeting: Meeting) -> Any:
    f = request.form
    op = f.get("op", "save")
    names = {"comment": "comment", "reopen": "reopen"}
    form = FormState(names.get(op, "minutes"), f)
    if op == "comment" and not rules.can_report(current_user):
        abort(403)
    if op != "comment" and not rules.can_manage(current_user):
        abort(403)
    version = f.get("row_version")

    def run() -> str:
        if op == "comment":
            minutes_ops.comment_on_minutes(current_user, meeting, f.get("comment", ""))
            return _("Your comment was sent to the meeting office.")
        if op == "save":
            minutes_ops.save_minutes(current_user, meeting, f.get("body", ""), version)
            return _("The minutes were saved.")
        if op == "circulate":
            minutes_ops.circulate_minutes(current_user, meeting, version)
            return _("The minutes were circulated to the attending departments.")
        if op == "finalise":
            minutes_ops.finalise_minutes(current_user, meeting, version)
            return _("The minutes were finalised and are now locked.")
        if op == "reopen":
            minutes_ops.reopen_minutes(current_user, meeting, f.get("reason", ""), version)
            return _("The minutes were reopened; the reason is in the audit trail.")
        abort(400)

    return run_form(meeting, form, run, "minutes")


def _action_input(form: FormState) -> decision_ops.ActionInput:
    return decision_ops.ActionInput(
        form.get("action_text"), form.getlist("departments"), form.get("due_date")
    )


@on_meeting("/decisions", "meeting.manage")
def add_decision(meeting: Meeting) -> Any:
    form = FormState("decision", request.form)
    actions = []
    if form.get("action_text").strip() or form.getlist("departments") or form.get("due_date"):
        actions.append(_action_input(form))

    def run() -> str:
        decision = decision_ops.add_decision(
            current_user, meeting, form.get("decision"), actions, key=form.get("request_key")
        )
        return _("Decision %(n)s was recorded.", n=rules.chinese_number(decision.number))

    return run_form(meeting, form, run, "decisions")


@on_meeting("/decisions/<uuid:decision_id>/actions", "meeting.manage")
def add_action(meeting: Meeting, decision_id: uuid.UUID) -> Any:
    decision = found_or_404(
        next((d for d in queries.decisions(meeting) if d.id == decision_id), None)
    )
    form = FormState(f"action-{decision_id}", request.form)

    def run() -> str:
        decision_ops.add_action_items(current_user, decision, _action_input(form))
        return _("The action item was assigned.")

    return run_form(meeting, form, run, f"decision-{decision.number}")
