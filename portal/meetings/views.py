"""Joint-meeting pages under /t/<slug>/meetings (thin: rules live in the operations).

Leads prepare, hold, minute and follow up meetings; officers see the meetings their
department is invited to, write and submit their department's report, comment on
circulated minutes and update/close their department's action items; auditors read.
Out-of-scope ids answer 404 (the scoped session finds nothing).

Every write goes through `attempt` (the kernel's unit of work): on success the request
commits once and the page is shown again at the form's anchor; on a broken rule the
same page is rendered with everything the user typed, the message beside the field and
a summary at the top of that form (its action URL carries the form's anchor, so the
browser scrolls to it).
"""

from __future__ import annotations

import uuid
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
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.kernel import clock, downloads
from portal.kernel.grants import can, requires
from portal.kernel.inputs import page_number
from portal.kernel.periods import Period
from portal.kernel.rules import RuleError
from portal.kernel.uow import attempt
from portal.meetings import (
    agenda as agenda_ops,
)
from portal.meetings import (
    arrangement as arrangement_ops,
)
from portal.meetings import (
    decisions as decision_ops,
)
from portal.meetings import (
    exports,
    queries,
    rules,
)
from portal.meetings import (
    minutes as minutes_ops,
)
from portal.meetings import (
    reports as report_ops,
)
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
        "render_md": queries.render_markdown,
        "meeting_open_action_items": _open_action_items_for_lists,
        "meeting_today": clock.today,
    }


def _open_action_items_for_lists() -> list[Any] | None:
    """The officer's department's open action items for their duty list (None for other
    roles: the lead follows them up on the action-item page)."""
    if not can(current_user, "action_item.update"):
        return None
    return list(
        db.session.execute(queries.action_items_query(status="open").limit(50)).unique().scalars()
    )


def _page() -> int:
    try:
        return page_number(request.args.get("page"))
    except ValueError:
        return 1


def _meeting_or_404(meeting_id: uuid.UUID) -> Meeting:
    meeting = queries.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    return meeting


class FormState:
    """One submitted form: what was typed, and the messages beside its fields."""

    def __init__(self, name: str, data: Any = None) -> None:
        self.name = name
        self.data = data if data is not None else MultiDict()
        self.errors: dict[str, list[str]] = {}
        self.form_errors: list[str] = []

    def get(self, key: str, default: Any = "") -> Any:
        return self.data.get(key, default)

    def getlist(self, key: str) -> list[str]:
        return self.data.getlist(key) if hasattr(self.data, "getlist") else []

    def add(self, error: RuleError) -> None:
        per_row = getattr(error, "errors", None)
        if isinstance(per_row, dict):
            for key, message in per_row.items():
                self.errors.setdefault(key, []).append(message)
        if error.field and not per_row:
            self.errors.setdefault(error.field, []).append(str(error.message))
        else:
            self.form_errors.append(str(error.message))

    def error(self, key: str) -> list[str]:
        return self.errors.get(key, [])

    @property
    def summary(self) -> list[str]:
        return self.form_errors + [m for ms in self.errors.values() for m in ms if m]


def _run(meeting: Meeting, form: FormState, action: Any, anchor: str) -> Any:
    """Run one operation; redirect to the form's anchor on success, or render the
    meeting page again with the input kept and the messages beside the fields."""
    outcome = attempt(action)
    if outcome.ok:
        flash(outcome.value, "success")
        return redirect(_url(meeting, anchor))
    if outcome.status in (403, 404):
        abort(outcome.status)
    form.add(outcome.error)  # type: ignore[arg-type]
    return _detail(meeting, {form.name: form}), outcome.status


def _url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("meetings.detail", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")


# --- list, create, arrangement ---------------------------------------------------------


@bp.get("/")
@requires("meeting.read")
def index() -> Any:
    kind = request.args.get("kind", "")
    page = _page()
    q = queries.meetings_query(kind=kind or None)
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
        schedule=queries.schedule() if rules.can_manage(current_user) else None,
        today=clock.today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("meeting.manage")
def new() -> Any:
    sched = queries.schedule()
    form = FormState("new-meeting", request.form if request.method == "POST" else None)
    if request.method == "POST":
        data = arrangement_ops.MeetingInput(
            kind=form.get("kind"),
            period=form.get("period"),
            title=form.get("title"),
            meeting_date=form.get("meeting_date"),
            start_time=form.get("start_time"),
            place=form.get("place"),
            chair=form.get("chair"),
            department_ids=form.getlist("departments") or None,
            request_key=form.get("request_key"),
        )
        outcome = attempt(lambda: arrangement_ops.create_meeting(current_user, data))
        if outcome.ok:
            meeting = outcome.value
            flash(
                _(
                    "Meeting %(number)s created; its agenda was drafted from live data.",
                    number=meeting.number,
                ),
                "success",
            )
            return redirect(_url(meeting, "agenda"))
        form.add(outcome.error)  # type: ignore[arg-type]
        return render_template("meetings/new.html", form=form, **_new_context(sched)), (
            outcome.status
        )
    return render_template("meetings/new.html", form=form, **_new_context(sched))


def _new_context(sched: queries.Schedule) -> dict[str, Any]:
    today = clock.today()
    period = queries.suggested_period(sched)
    arr = queries.arrangement()
    return {
        "schedule": sched,
        "suggested_period": period.code,
        "periods": sorted(set(Period.choices(period, back=4, ahead=2)), reverse=True),
        "suggested_date": (sched.next_due if sched.next_due and sched.next_due >= today else today),
        "suggested_chair": arr.chief_convener if arr else "",
        "departments": queries.departments(),
        "members": {d.id for d in queries.member_departments(arr)},
        "request_key": uuid.uuid4().hex,
    }


@bp.route("/arrangement", methods=["GET", "POST"])
@requires("meeting.read")
def arrangement() -> Any:
    form = FormState("arrangement", request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not rules.can_manage(current_user):
            abort(403)
        data = arrangement_ops.ArrangementInput(
            name=form.get("name"),
            cadence=form.get("cadence"),
            chief_convener=form.get("chief_convener"),
            conveners=[c for c in form.get("conveners").splitlines() if c.strip()],
            office_department_id=form.get("office_department") or None,
            member_department_ids=form.getlist("member_departments"),
            note=form.get("note"),
        )
        outcome = attempt(
            lambda: arrangement_ops.update_arrangement(current_user, data, form.get("row_version"))
        )
        if outcome.ok:
            flash(_("The meeting arrangement was saved."), "success")
            return redirect(url_for("meetings.arrangement"))
        form.add(outcome.error)  # type: ignore[arg-type]
        status = outcome.status
    arr = queries.arrangement()
    return render_template(
        "meetings/arrangement.html",
        arrangement=arr,
        form=form,
        manage=rules.can_manage(current_user),
        departments=queries.departments(),
        members={d.id for d in queries.member_departments(arr)},
        cadences=queries.CADENCES,
    ), status


# --- one meeting ---------------------------------------------------------------------


def _detail(meeting: Meeting, forms: dict[str, FormState] | None = None) -> str:
    minutes = queries.minutes_of(meeting)
    officer = rules.can_report(current_user)
    own_report = queries.get_report(meeting, current_user.department_id) if officer else None
    current_period = queries.meeting_period(meeting)
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        agenda=queries.agenda_for(current_user, meeting),
        tracking=queries.report_tracking(meeting),
        own_report=own_report,
        minutes=minutes,
        minutes_html=queries.render_markdown(minutes.body),
        comments=queries.minutes_comments(meeting),
        states=queries.decision_states(meeting),
        departments=queries.departments(),
        today=clock.today(),
        chinese_number=rules.chinese_number,
        manage=rules.can_manage(current_user),
        officer=officer,
        read_all=can(current_user, "district.read_all"),
        locked=minutes.locked,
        periods=sorted(set(Period.choices(current_period, back=4, ahead=2)), reverse=True),
        forms=forms or {},
        request_key=uuid.uuid4().hex,
        Attendance=Attendance,
        MinutesStatus=MinutesStatus,
        ActionStatus=ActionStatus,
    )


#: The longest text the preview renders (the longest Markdown field is well under it).
PREVIEW_MAX = 50_000


@bp.post("/preview")
@requires("meeting.read")
def preview_markdown() -> Any:
    """The live preview of a Markdown field: the same renderer and nh3 sanitiser as the
    saved view, so what the writer sees is what readers get. Writers only (the lead and
    reporting officers); it reads and stores nothing."""
    if not (can(current_user, "meeting.manage") or can(current_user, "meeting.report")):
        abort(403)  # like every write the role may not do (an auditor)
    text = request.form.get("text", "")
    if len(text) > PREVIEW_MAX:
        return Response(_("The text is too long to preview."), status=413, mimetype="text/plain")
    response = Response(queries.render_markdown(text), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<uuid:meeting_id>")
@requires("meeting.read")
def detail(meeting_id: uuid.UUID) -> Any:
    return _detail(_meeting_or_404(meeting_id))


@bp.post("/<uuid:meeting_id>/edit")
@requires("meeting.manage")
def edit(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
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

    return _run(meeting, form, run, "meeting-head")


@bp.post("/<uuid:meeting_id>/agenda")
@requires("meeting.manage")
def agenda_action(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
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

    return _run(meeting, form, run, "agenda")


@bp.post("/<uuid:meeting_id>/attendance")
@requires("meeting.manage")
def attendance(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    form = FormState("attendance", request.form)
    marks = {}
    for inv in queries.invitations(meeting):
        key = str(inv.department_id)
        marks[key] = (
            form.get(f"attendance-{key}", inv.attendance.value),
            form.get(f"delegate-{key}", ""),
        )

    def run() -> str:
        arrangement_ops.record_attendance(current_user, meeting, marks)
        return _("Attendance was recorded.")

    return _run(meeting, form, run, "attendance")


@bp.post("/<uuid:meeting_id>/invite")
@requires("meeting.manage")
def invite(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    form = FormState("invite", request.form)

    def run() -> str:
        arrangement_ops.invite(current_user, meeting, form.get("department"))
        return _("The department was invited.")

    return _run(meeting, form, run, "attendance")


@bp.post("/<uuid:meeting_id>/minutes")
@requires("meeting.read")
def minutes(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
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

    return _run(meeting, form, run, "minutes")


def _action_input(form: FormState) -> decision_ops.ActionInput:
    return decision_ops.ActionInput(
        form.get("action_text"), form.getlist("departments"), form.get("due_date")
    )


@bp.post("/<uuid:meeting_id>/decisions")
@requires("meeting.manage")
def add_decision(meeting_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    form = FormState("decision", request.form)
    actions = []
    if form.get("action_text").strip() or form.getlist("departments") or form.get("due_date"):
        actions.append(_action_input(form))

    def run() -> str:
        decision = decision_ops.add_decision(
            current_user, meeting, form.get("decision"), actions, key=form.get("request_key")
        )
        return _("Decision %(n)s was recorded.", n=rules.chinese_number(decision.number))

    return _run(meeting, form, run, "decisions")


@bp.post("/<uuid:meeting_id>/decisions/<uuid:decision_id>/actions")
@requires("meeting.manage")
def add_action(meeting_id: uuid.UUID, decision_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    decision = next((d for d in queries.decisions(meeting) if d.id == decision_id), None)
    if decision is None:
        abort(404)
    form = FormState(f"action-{decision_id}", request.form)

    def run() -> str:
        decision_ops.add_action_items(current_user, decision, _action_input(form))
        return _("The action item was assigned.")

    return _run(meeting, form, run, f"decision-{decision.number}")


# --- department reports ----------------------------------------------------------------


@bp.route("/<uuid:meeting_id>/report", methods=["GET", "POST"])
@requires("meeting.report")
def my_report(meeting_id: uuid.UUID) -> Any:
    """The officer's own department's report: drafted from its duties and shown on GET
    (nothing is stored until the officer saves it)."""
    meeting = _meeting_or_404(meeting_id)
    department_id = current_user.department_id
    invitation = queries.invitation(meeting, department_id)
    if invitation is None:
        abort(404)
    report = queries.get_report(meeting, department_id)
    if report is None:
        report = report_ops.unsaved_draft(meeting, department_id)
    form = FormState("report-form", request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        data = report_ops.ReportInput(
            body=form.get("body"),
            families_reached=form.get("families_reached"),
            amount_paid=form.get("amount_paid"),
            not_delivered=form.get("not_delivered"),
        )
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


@bp.get("/<uuid:meeting_id>/reports/<uuid:department_id>")
@requires("district.read_all")
def department_report(meeting_id: uuid.UUID, department_id: uuid.UUID) -> Any:
    meeting = _meeting_or_404(meeting_id)
    report = queries.get_report(meeting, department_id)
    if report is None:
        abort(404)
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
    meeting = _meeting_or_404(meeting_id)
    report = queries.get_report(meeting, department_id)
    if report is None:
        abort(404)
    form = FormState("return-report", request.form)

    def run() -> str:
        report_ops.reopen_report(current_user, report)
        return _("The report was returned to the department as a draft.")

    return _run(meeting, form, run, "attendance")


# --- exports -------------------------------------------------------------------------


def _docx(meeting: Meeting, content: bytes, kind: str, filename: str) -> Any:
    """The document as a download; the export is recorded and committed with the request."""
    from flask import Response

    minutes_ops.record_export(meeting, kind)
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


def _action_items_page(forms: dict[str, FormState] | None = None) -> str:
    status = request.args.get("status", "open")
    overdue = request.args.get("overdue") == "1"
    department = request.args.get("department", "")
    try:
        department_id = uuid.UUID(department) if department else None
    except ValueError:
        department_id = None
    page = _page()
    q = queries.action_items_query(
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
        departments=queries.departments() if can(current_user, "district.read_all") else [],
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
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
    item = queries.get_action_item(item_id)
    if item is None:
        abort(404)
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


# --- home panels ------------------------------------------------------------------------


def _lead_panel() -> dict[str, Any]:
    sched = queries.schedule()
    items = queries.action_items_query().order_by(None).subquery()
    open_now = items.c.status == ActionStatus.open
    open_items, overdue_items = db.session.execute(
        sa.select(
            sa.func.count().filter(open_now),
            sa.func.count().filter(open_now, items.c.due_date < clock.today()),
        )
    ).one()
    return {"schedule": sched, "open_items": open_items, "overdue_items": overdue_items}


def _officer_panel() -> dict[str, Any]:
    items = (
        db.session.execute(queries.action_items_query(status="open").limit(20))
        .unique()
        .scalars()
        .all()
    )
    return {
        "invitations": queries.pending_invitations(),
        "action_items": items,
        "today": clock.today(),
    }


register_home_panel(HomePanel("meetings/_lead_panel.html", "meeting.manage", _lead_panel, order=20))
register_home_panel(
    HomePanel("meetings/_officer_panel.html", "meeting.report", _officer_panel, order=20)
)
