"""The follow-up pages (thin): department reports, the .docx exports and action items.

Routes on the meetings blueprint (`portal.meetings.views.bp`)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.kernel import clock, downloads
from portal.kernel.grants import can, requires
from portal.kernel.uow import attempt
from portal.meetings import decisions as decision_ops
from portal.meetings import exports, queries, rules
from portal.meetings import minutes as minutes_ops
from portal.meetings import reports as report_ops
from portal.meetings.models import ActionItem, Meeting, ReportStatus
from portal.meetings.views import (
    FormState,
    action_label,
    bp,
    like_pattern,
    meeting_or_404,
    on_meeting,
    run_form,
)
from portal.tenancy.models import Department
from portal.webhelpers import found_or_404

# --- department reports ----------------------------------------------------------------


@on_meeting("/report", "meeting.report", methods=("GET", "POST"))
def my_report(meeting: Meeting) -> Any:
    """The officer's own department's report: drafted from its duties and shown on GET
    (nothing is stored until the officer saves it)."""
    department_id = current_user.department_id
    invitation = found_or_404(queries.invitation(meeting, department_id))
    report = queries.get_report(meeting, department_id)
    if report is None:
        report = report_ops.unsaved_draft(meeting, department_id)
    form = FormState("report-form", request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        data = form.input(report_ops.ReportInput)
        submit = form.get("op") == "submit"
        outcome = attempt(
            lambda: report_ops.save_own_report(
                current_user, meeting, data, submit, form.get("row_version")
            )
        )
        if outcome.ok:
            flash(
                _("The report was submitted.") if submit else _("The report was saved as a draft."),
                "success",
            )
            return redirect(url_for("meetings.my_report", meeting_id=meeting.id))
        if outcome.status in (403, 404):
            abort(outcome.status)
        form.add(outcome.error)  # type: ignore[arg-type]
        status = outcome.status
        report = queries.get_report(meeting, department_id) or report_ops.unsaved_draft(
            meeting, department_id
        )
    return render_template(
        "meetings/report.html",
        meeting=meeting,
        report=report,
        department_name=invitation.department.name,
        form=form,
        editable=report.status == ReportStatus.draft and not queries.minutes_of(meeting).locked,
        can_return=False,
    ), status


def _report_or_404(meeting_id: uuid.UUID, department_id: uuid.UUID) -> tuple[Meeting, Any]:
    """The meeting of the URL and the report its department keeps there (or 404)."""
    meeting = meeting_or_404(meeting_id)
    return meeting, found_or_404(queries.get_report(meeting, department_id))


@bp.get("/<uuid:meeting_id>/reports/<uuid:department_id>")
@requires("district.read_all")
def department_report(meeting_id: uuid.UUID, department_id: uuid.UUID) -> Any:
    meeting, report = _report_or_404(meeting_id, department_id)
    return render_template(
        "meetings/report.html",
        meeting=meeting,
        report=report,
        department_name=report.department.name,
        form=FormState("report-form"),
        editable=False,
        can_return=rules.can_manage(current_user)
        and report.status == ReportStatus.submitted
        and not queries.minutes_of(meeting).locked,
    )


@bp.post("/<uuid:meeting_id>/reports/<uuid:department_id>/return")
@requires("meeting.manage")
def return_report(meeting_id: uuid.UUID, department_id: uuid.UUID) -> Any:
    meeting, report = _report_or_404(meeting_id, department_id)
    form = FormState("return-report", request.form)

    def run() -> str:
        report_ops.reopen_report(current_user, report)
        return _("The report was returned to the department as a draft.")

    return run_form(meeting, form, run, "attendance")


# --- exports -------------------------------------------------------------------------


#: Each .docx of a meeting: how it is built and the first words of its Chinese file name.
_DOCX = {
    "minutes": (exports.minutes_docx, "会议纪要"),
    "prep-pack": (exports.prep_pack_docx, "会议材料"),
}


def _docx(meeting_id: uuid.UUID, kind: str) -> Any:
    """The meeting's document as a download; the export is recorded and committed with the
    request."""
    from flask import Response

    meeting = meeting_or_404(meeting_id)
    build, name = _DOCX[kind]
    content = build(meeting)
    minutes_ops.record_export(meeting, kind)
    response = Response(content, mimetype=exports.DOCX_MIME)
    return downloads.attach(response, f"{name}（{meeting.number}）.docx")


@bp.get("/<uuid:meeting_id>/export/minutes.docx")
@requires("district.read_all")
def export_minutes(meeting_id: uuid.UUID) -> Any:
    return _docx(meeting_id, "minutes")


@bp.get("/<uuid:meeting_id>/export/prep-pack.docx")
@requires("district.read_all")
def export_prep_pack(meeting_id: uuid.UUID) -> Any:
    return _docx(meeting_id, "prep-pack")


# --- action items ----------------------------------------------------------------------


def _department_name() -> Any:
    return (
        sa.select(Department.name)
        .where(
            Department.tenant_id == ActionItem.tenant_id, Department.id == ActionItem.department_id
        )
        .scalar_subquery()
    )


def _meeting_date() -> Any:
    return (
        sa.select(Meeting.meeting_date)
        .where(Meeting.tenant_id == ActionItem.tenant_id, Meeting.id == ActionItem.meeting_id)
        .scalar_subquery()
    )


ACTION_ITEM_COLUMNS = [
    listing.Column("text", _l("Action item"), lambda a: a.text, sort=ActionItem.text),
    listing.Column(
        "department", _l("Department"), lambda a: a.department.name, sort=_department_name()
    ),
    listing.Column("meeting", _l("Meeting"), lambda a: a.meeting.number, sort=_meeting_date()),
    listing.Column("due", _l("Due date"), lambda a: a.due_date, sort=ActionItem.due_date),
    listing.Column(
        "state",
        _l("State"),
        lambda a: (
            action_label(a.status) + (f" · {_('overdue')}" if a.is_overdue(clock.today()) else "")
        ),
        sort=ActionItem.status,
    ),
    listing.Column("note", _l("Note"), lambda a: a.closing_note or a.progress_note),
]


def _action_items_page(forms: dict[str, FormState] | None = None) -> Any:
    status = request.args.get("status", "open")
    if status not in ("open", "done", "all"):
        status = "open"
    overdue = request.args.get("overdue") == "1"
    department = request.args.get("department", "")
    try:
        department_id = uuid.UUID(department) if department else None
    except ValueError:
        department_id = None
        department = ""
    search = listing.search_arg()
    lst = listing.Listing.from_request(
        "meetings.action_items",
        ACTION_ITEM_COLUMNS,
        keep={
            "status": status,
            "overdue": "1" if overdue else "",
            "department": department,
            "q": search,
        },
        title=_("Action items"),
    )
    q = queries.action_items_query(
        status=status if status != "all" else None, overdue=overdue, department_id=department_id
    )
    if search:
        q = q.where(ActionItem.text.ilike(like_pattern(search)))
    return lst.answer(
        "meetings/action_items.html",
        q,
        tiebreak=(ActionItem.id,),
        export=not forms,
        status=status,
        overdue=overdue,
        department=department,
        search=search,
        departments=queries.departments() if can(current_user, "district.read_all") else [],
        today=clock.today(),
        forms=forms or {},
        can_update=rules.can_update_items(current_user),
        manage=rules.can_manage(current_user),
    )


@bp.get("/action-items")
@requires("meeting.read")
def action_items() -> Any:
    return _action_items_page()


@bp.post("/action-items/<uuid:item_id>")
@requires("meeting.read")
def update_action_item(item_id: uuid.UUID) -> Any:
    item = found_or_404(queries.get_action_item(item_id))
    op = request.form.get("op", "")
    form = FormState(f"item-{item_id}", request.form)
    version = form.get("row_version")
    if op in ("progress", "close") and not rules.can_update_items(current_user):
        abort(403)
    if op == "reopen" and not rules.can_manage(current_user):
        abort(403)
    if op not in ("progress", "close", "reopen"):
        abort(400)

    def run() -> str:
        if op == "reopen":
            decision_ops.reopen_action_item(current_user, item, form.get("reason"), version)
            return _("The action item was reopened.")
        decision_ops.update_action_item(
            current_user, item, form.get("note"), op == "close", version
        )
        return _("The action item was closed.") if op == "close" else _("Progress was noted.")

    outcome = attempt(run)
    if outcome.ok:
        flash(outcome.value, "success")
        target = form.get("next")
        if target.startswith("/t/") and "//" not in target and "\\" not in target:
            return redirect(target)
        return redirect(url_for("meetings.action_items"))
    if outcome.status in (403, 404):
        abort(outcome.status)
    form.add(outcome.error)  # type: ignore[arg-type]
    return _action_items_page({form.name: form}), outcome.status
