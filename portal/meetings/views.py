"""Joint-meeting pages under /t/<slug>/meetings (thin: rules live in services).

Leads prepare, hold, minute and follow up meetings; officers see the meetings their
department is invited to, write and submit their department's report, comment on
circulated minutes and update/close their department's action items; auditors read.
Out-of-scope ids answer 404 (the scoped session finds nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth.models import Role
from portal.extensions import db
from portal.kernel import downloads
from portal.kernel.grants import can, requires
from portal.kernel.inputs import page_number
from portal.meetings import exports, services
from portal.meetings.models import (
    ActionStatus,
    Attendance,
    Meeting,
    MeetingKind,
    MinutesStatus,
    ReportStatus,
)
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav

bp = Blueprint("meetings", __name__, url_prefix="/t/<slug>/meetings", template_folder="templates")

register_nav(NavItem(_l("Joint meetings"), "meetings.index", "meeting.read", order=40))
register_nav(NavItem(_l("Action items"), "meetings.action_items", "meeting.read", order=41))

PER_PAGE = 30

KIND_LABELS = {MeetingKind.regular: _l("regular"), MeetingKind.ad_hoc: _l("ad hoc")}
ATTENDANCE_LABELS = {
    Attendance.unknown: _l("not recorded"),
    Attendance.present: _l("present"),
    Attendance.absent: _l("absent"),
    Attendance.delegate: _l("delegate"),
}
MINUTES_LABELS = {
    MinutesStatus.draft: _l("draft minutes"),
    MinutesStatus.circulated: _l("circulated for comments"),
    MinutesStatus.finalised: _l("finalised"),
}
REPORT_LABELS = {
    ReportStatus.draft: _l("being written"),
    ReportStatus.submitted: _l("submitted"),
}
ACTION_LABELS = {ActionStatus.open: _l("open"), ActionStatus.done: _l("done")}
DECISION_STATE_LABELS = {
    "no_action": _l("no action item"),
    "open": _l("in progress"),
    "overdue": _l("overdue"),
    "done": _l("done"),
}
CADENCE_LABELS = {
    "semiannual": _l("every half-year"),
    "quarterly": _l("every quarter"),
    "yearly": _l("every year"),
    "ad_hoc": _l("when needed"),
    "unspecified": _l("not specified"),
}
MEETING_STATUS_LABELS = {
    "planned": _l("planned"),
    "held": _l("held"),
    "cancelled": _l("cancelled"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "meeting_labels": {
            "kind": KIND_LABELS,
            "attendance": ATTENDANCE_LABELS,
            "minutes": MINUTES_LABELS,
            "report": REPORT_LABELS,
            "action": ACTION_LABELS,
            "decision": DECISION_STATE_LABELS,
            "cadence": CADENCE_LABELS,
            "status": MEETING_STATUS_LABELS,
        },
        "render_md": services.render_markdown,
        "meeting_open_action_items": _open_action_items_for_lists,
        "meeting_today": services.today,
    }


def _open_action_items_for_lists() -> list[Any] | None:
    """The officer's department's open action items for their duty list (None for other
    roles: the lead follows them up on the action-item page)."""
    if not can(current_user, "action_item.update"):
        return None
    return list(
        db.session.execute(services.action_items_query(status="open").limit(50)).unique().scalars()
    )


def _page() -> int:
    try:
        return page_number(request.args.get("page"))
    except ValueError:
        return 1


def _meeting_or_404(meeting_id: uuid.UUID) -> Meeting:
    meeting = services.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _fail(e: services.MeetingError) -> None:
    db.session.rollback()
    flash(str(e.message), "error")


def _done(message: str) -> None:
    db.session.commit()
    flash(message, "success")


def _act(meeting: Meeting, action: Callable[[], str], anchor: str = "") -> Any:
    """Run a service action that returns its success message: commit and flash it, or
    roll back and flash the broken rule; either way back to the meeting's page."""
    try:
        message = action()
    except services.MeetingError as e:
        _fail(e)
    else:
        _done(message)
    return _back(meeting, anchor)


def _back(meeting: Meeting, anchor: str = "") -> Any:
    return redirect(
        url_for("meetings.detail", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")
    )


# --- list, create, arrangement ---------------------------------------------------------


@bp.get("/")
@requires("meeting.read")
def index() -> Any:
    kind = request.args.get("kind", "")
    page = _page()
    q = services.meetings_query(kind=kind or None)
    total = db.session.execute(
        db.select(db.func.count()).select_from(q.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(q.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).scalars().all()
    return render_template(
        "meetings/list.html",
        rows=rows,
        kind=kind,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        schedule=services.schedule() if can(current_user, "meeting.manage") else None,
        today=services.today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("meeting.manage")
def new() -> Any:
    sched = services.schedule()
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        data = services.MeetingInput(
            kind=form.get("kind", ""),
            period=form.get("period", ""),
            title=form.get("title", ""),
            meeting_date=form.get("meeting_date", ""),
            start_time=form.get("start_time", ""),
            place=form.get("place", ""),
            chair=form.get("chair", ""),
            department_ids=request.form.getlist("departments") or None,
        )
        try:
            meeting = services.create_meeting(current_user, data)
        except services.MeetingError as e:
            _fail(e)
            return render_template(
                "meetings/new.html", form=form, error_field=e.field, **_new_context(sched)
            ), 400
        _done(
            _(
                "Meeting %(number)s created; its agenda was drafted from live data.",
                number=meeting.number,
            )
        )
        return _back(meeting, "agenda")
    return render_template("meetings/new.html", form=form, error_field=None, **_new_context(sched))


def _new_context(sched: services.Schedule) -> dict[str, Any]:
    today = services.today()
    last = sched.last_regular
    period = (
        services.shift_period(last.period, 1)
        if last and last.period
        else services.period_for(today)
    )
    arr = services.arrangement()
    return {
        "schedule": sched,
        "suggested_period": period,
        "suggested_date": (sched.next_due if sched.next_due and sched.next_due >= today else today),
        "suggested_chair": arr.chief_convener if arr else "",
        "departments": services.departments(),
        "members": {d.id for d in services.member_departments(arr)},
    }


@bp.route("/arrangement", methods=["GET", "POST"])
@requires("meeting.read")
def arrangement() -> Any:
    arr = services.arrangement()
    if request.method == "POST":
        if not can(current_user, "meeting.manage"):
            abort(403)
        data = services.ArrangementInput(
            name=request.form.get("name", ""),
            cadence=request.form.get("cadence", ""),
            chief_convener=request.form.get("chief_convener", ""),
            conveners=[c for c in request.form.get("conveners", "").splitlines() if c.strip()],
            office_department_id=request.form.get("office_department") or None,
            member_department_ids=request.form.getlist("member_departments"),
            note=request.form.get("note", ""),
        )
        try:
            services.update_arrangement(current_user, data, request.form.get("row_version"))
        except services.MeetingError as e:
            _fail(e)
        else:
            _done(_("The meeting arrangement was saved."))
        return redirect(url_for("meetings.arrangement"))
    return render_template(
        "meetings/arrangement.html",
        arrangement=arr,
        departments=services.departments(),
        members={d.id for d in services.member_departments(arr)},
        cadences=services.CADENCES,
    )


# --- one meeting ---------------------------------------------------------------------


@bp.get("/<uuid:meeting_id>")
@requires("meeting.read")
def detail(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    minutes = services.minutes_of(meeting, create=False)
    tracking = services.report_tracking(meeting)
    own_report = None
    if current_user.role == Role.dept_officer:
        own_report = services.get_report(meeting, current_user.department_id)
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        agenda=services.agenda(meeting),
        tracking=tracking,
        own_report=own_report,
        minutes=minutes,
        minutes_html=services.render_markdown(minutes.body),
        comments=services.minutes_comments(meeting),
        states=services.decision_states(meeting),
        departments=services.departments(),
        today=services.today(),
        chinese_number=services.chinese_number,
        Attendance=Attendance,
        MinutesStatus=MinutesStatus,
        ActionStatus=ActionStatus,
    )


@bp.post("/<uuid:meeting_id>/edit")
@requires("meeting.manage")
def edit(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    f = request.form
    data = services.MeetingInput(
        kind=f.get("kind", meeting.kind.value),
        period=f.get("period", meeting.period or ""),
        title=f.get("title", ""),
        meeting_date=f.get("meeting_date", ""),
        start_time=f.get("start_time", ""),
        place=f.get("place", ""),
        chair=f.get("chair", ""),
    )

    def run() -> str:
        if f.get("status") and f.get("status") != meeting.status.value:
            services.set_status(current_user, meeting, f["status"], f.get("row_version"))
            services.update_meeting(current_user, meeting, data)
        else:
            services.update_meeting(current_user, meeting, data, f.get("row_version"))
        return _("The meeting was saved.")

    return _act(meeting, run)


@bp.post("/<uuid:meeting_id>/agenda")
@requires("meeting.manage")
def agenda_action(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    f = request.form
    op = f.get("op", "")

    def run() -> str:
        if op == "redraft":
            services.redraft_agenda(current_user, meeting)
            message = _("The agenda was drafted again from live data.")
        elif op == "add":
            services.add_agenda_item(current_user, meeting, f.get("title", ""), f.get("detail", ""))
            message = _("The agenda item was added.")
        elif op == "edit":
            services.update_agenda_item(
                current_user, meeting, f.get("item", ""), f.get("title", ""), f.get("detail", "")
            )
            message = _("The agenda item was saved.")
        elif op in ("up", "down"):
            services.move_agenda_item(current_user, meeting, f.get("item", ""), op)
            message = _("The agenda was reordered.")
        elif op == "delete":
            services.delete_agenda_item(current_user, meeting, f.get("item", ""))
            message = _("The agenda item was removed.")
        else:
            abort(400)
        return message

    return _act(meeting, run, "agenda")


@bp.post("/<uuid:meeting_id>/attendance")
@requires("meeting.manage")
def attendance(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    marks = {}
    for inv in services.invitations(meeting):
        key = str(inv.department_id)
        marks[key] = (
            request.form.get(f"attendance-{key}", inv.attendance.value),
            request.form.get(f"delegate-{key}", ""),
        )

    def run() -> str:
        services.record_attendance(current_user, meeting, marks)
        return _("Attendance was recorded.")

    return _act(meeting, run, "attendance")


@bp.post("/<uuid:meeting_id>/invite")
@requires("meeting.manage")
def invite(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)

    def run() -> str:
        services.invite(current_user, meeting, request.form.get("department", ""))
        return _("The department was invited.")

    return _act(meeting, run, "attendance")


@bp.post("/<uuid:meeting_id>/minutes")
@requires("meeting.read")
def minutes(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    f = request.form
    op = f.get("op", "save")

    def run() -> str:
        if op == "comment":
            if not can(current_user, "meeting.report"):
                abort(403)
            services.comment_on_minutes(current_user, meeting, f.get("comment", ""))
            message = _("Your comment was sent to the meeting office.")
        else:
            if not can(current_user, "meeting.manage"):
                abort(403)
            version = f.get("row_version")
            if op == "save":
                services.save_minutes(current_user, meeting, f.get("body", ""), version)
                message = _("The minutes were saved.")
            elif op == "circulate":
                services.circulate_minutes(current_user, meeting, version)
                message = _("The minutes were circulated to the attending departments.")
            elif op == "finalise":
                services.finalise_minutes(current_user, meeting, version)
                message = _("The minutes were finalised and are now locked.")
            elif op == "reopen":
                services.reopen_minutes(current_user, meeting, f.get("reason", ""), version)
                message = _("The minutes were reopened; the reason is in the audit trail.")
            else:
                abort(400)
        return message

    return _act(meeting, run, "minutes")


@bp.post("/<uuid:meeting_id>/decisions")
@requires("meeting.manage")
def add_decision(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    f = request.form
    actions = []
    if f.get("action_text", "").strip() or request.form.getlist("departments"):
        actions.append(
            services.ActionInput(
                f.get("action_text", ""), request.form.getlist("departments"), f.get("due_date")
            )
        )

    def run() -> str:
        decision = services.add_decision(current_user, meeting, f.get("decision", ""), actions)
        return _("Decision %(n)s was recorded.", n=services.chinese_number(decision.number))

    return _act(meeting, run, "decisions")


@bp.post("/<uuid:meeting_id>/decisions/<uuid:decision_id>/actions")
@requires("meeting.manage")
def add_action(meeting_id: uuid.UUID, decision_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    decision = next((d for d in services.decisions(meeting) if d.id == decision_id), None)
    if decision is None:
        abort(404)
    f = request.form

    def run() -> str:
        services.add_action_items(
            current_user,
            decision,
            services.ActionInput(
                f.get("action_text", ""), request.form.getlist("departments"), f.get("due_date")
            ),
        )
        return _("The action item was assigned.")

    return _act(meeting, run, "decisions")


# --- department reports ----------------------------------------------------------------


@bp.route("/<uuid:meeting_id>/report", methods=["GET", "POST"])
@requires("meeting.report")
def my_report(meeting_id: uuid.UUID) -> Any:
    """The officer's own department's report (drafted from its duties on first open)."""
    meeting = _meeting_or_404(meeting_id)
    report = services.report_for(current_user, meeting, current_user.department_id)
    db.session.commit()
    error_field = None
    status = 200
    if request.method == "POST":
        f = request.form
        data = services.ReportInput(
            body=f.get("body", ""),
            families_reached=f.get("families_reached", ""),
            amount_paid=f.get("amount_paid", ""),
            not_delivered=f.get("not_delivered", ""),
        )
        submit = f.get("op") == "submit"
        try:
            services.save_report(current_user, report, data, submit, f.get("row_version"))
        except services.MeetingError as e:
            db.session.rollback()
            flash(str(e.message), "error")
            error_field, status = e.field, 409 if e.status == 409 else 400
            report = services.get_report(meeting, current_user.department_id)
            return render_template(
                "meetings/report.html",
                meeting=meeting,
                report=report,
                form=f,
                error_field=error_field,
                editable=True,
            ), status
        _done(_("The report was submitted.") if submit else _("The report was saved as a draft."))
        return redirect(url_for("meetings.my_report", meeting_id=meeting.id))
    return render_template(
        "meetings/report.html",
        meeting=meeting,
        report=report,
        form=None,
        error_field=error_field,
        editable=report.status == ReportStatus.draft,
    )


@bp.get("/<uuid:meeting_id>/reports/<uuid:department_id>")
@requires("district.read_all")
def department_report(meeting_id: uuid.UUID, department_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    report = services.get_report(meeting, department_id)
    if report is None:
        abort(404)
    return render_template(
        "meetings/report.html",
        meeting=meeting,
        report=report,
        form=None,
        error_field=None,
        editable=False,
    )


@bp.post("/<uuid:meeting_id>/reports/<uuid:department_id>/return")
@requires("meeting.manage")
def return_report(meeting_id: uuid.UUID, department_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    report = services.get_report(meeting, department_id)
    if report is None:
        abort(404)

    def run() -> str:
        services.reopen_report(current_user, report)
        return _("The report was returned to the department as a draft.")

    return _act(meeting, run, "reports")


# --- exports -------------------------------------------------------------------------


def _docx(meeting: Meeting, content: bytes, kind: str, filename: str) -> Response:
    services.record_export(meeting, kind)
    db.session.commit()
    response = Response(content, mimetype=exports.DOCX_MIME)
    return downloads.attach(response, filename)


@bp.get("/<uuid:meeting_id>/export/minutes.docx")
@requires("district.read_all")
def export_minutes(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    return _docx(
        meeting, exports.minutes_docx(meeting), "minutes", f"会议纪要（{meeting.number}）.docx"
    )


@bp.get("/<uuid:meeting_id>/export/prep-pack.docx")
@requires("district.read_all")
def export_prep_pack(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    return _docx(
        meeting, exports.prep_pack_docx(meeting), "prep-pack", f"会议材料（{meeting.number}）.docx"
    )


# --- action items ----------------------------------------------------------------------


@bp.get("/action-items")
@requires("meeting.read")
def action_items() -> Any:
    status = request.args.get("status", "open")
    overdue = request.args.get("overdue") == "1"
    department = request.args.get("department", "")
    try:
        department_id = uuid.UUID(department) if department else None
    except ValueError:
        department_id = None
    page = _page()
    q = services.action_items_query(
        status=status if status != "all" else None, overdue=overdue, department_id=department_id
    )
    total = db.session.execute(
        db.select(db.func.count()).select_from(q.order_by(None).subquery())
    ).scalar_one()
    rows = (
        db.session.execute(q.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().scalars().all()
    )
    return render_template(
        "meetings/action_items.html",
        rows=rows,
        status=status,
        overdue=overdue,
        department=department,
        departments=services.departments() if can(current_user, "district.read_all") else [],
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        today=services.today(),
    )


@bp.post("/action-items/<uuid:item_id>")
@requires("meeting.read")
def update_action_item(item_id: uuid.UUID) -> Any:
    item = services.get_action_item(item_id)
    if item is None:
        abort(404)
    op = request.form.get("op", "")
    try:
        if op in ("progress", "close"):
            if not can(current_user, "action_item.update"):
                abort(403)
            services.update_action_item(
                current_user,
                item,
                request.form.get("note", ""),
                op == "close",
                request.form.get("row_version"),
            )
            message = (
                _("The action item was closed.") if op == "close" else _("Progress was noted.")
            )
        elif op == "reopen":
            if not can(current_user, "meeting.manage"):
                abort(403)
            services.reopen_action_item(current_user, item, request.form.get("reason", ""))
            message = _("The action item was reopened.")
        else:
            abort(400)
    except services.MeetingError as e:
        _fail(e)
    else:
        _done(message)
    target = request.form.get("next", "")
    if target.startswith("/t/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("meetings.action_items"))


# --- home panels ------------------------------------------------------------------------


def _lead_panel() -> dict[str, Any]:
    sched = services.schedule()
    items = services.action_items_query().order_by(None).subquery()
    open_now = items.c.status == ActionStatus.open
    open_items, overdue_items = db.session.execute(
        sa.select(
            sa.func.count().filter(open_now),
            sa.func.count().filter(open_now, items.c.due_date < services.today()),
        )
    ).one()
    return {"schedule": sched, "open_items": open_items, "overdue_items": overdue_items}


def _officer_panel() -> dict[str, Any]:
    items = (
        db.session.execute(services.action_items_query(status="open").limit(20))
        .unique()
        .scalars()
        .all()
    )
    return {
        "invitations": services.pending_invitations(),
        "action_items": items,
        "today": services.today(),
    }


register_home_panel(HomePanel("meetings/_lead_panel.html", "meeting.manage", _lead_panel, order=20))
register_home_panel(
    HomePanel("meetings/_officer_panel.html", "meeting.report", _officer_panel, order=20)
)
