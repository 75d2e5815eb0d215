"""Duty pages under /t/<slug>/duties: lists, detail, progress entries, sign-off, review, export.

Thin: the rules live in `portal.duties.services`; what a user may see is decided by
the scoping hook (an officer's queries only ever return their department's rows).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.audit import trail
from portal.duties import services
from portal.duties.forms import ASSESSMENT_LABELS, EntryForm, ReviewForm, SignOffForm
from portal.duties.models import Duty, DutyStatus, EvidenceFile, ProgressEntry
from portal.extensions import db
from portal.kernel import downloads
from portal.kernel.grants import can, requires
from portal.kernel.inputs import page_number
from portal.policy.models import ResponsibilityRole
from portal.tenancy.models import Department
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav

bp = Blueprint("duties", __name__, url_prefix="/t/<slug>/duties", template_folder="templates")

register_nav(NavItem(_l("Duties"), "duties.index", "duty.read", order=20))
register_nav(NavItem(_l("Review queue"), "duties.review_queue", "duty.review", order=21))

STATUS_LABELS = {
    DutyStatus.not_started: _l("Not started"),
    DutyStatus.in_progress: _l("In progress"),
    DutyStatus.submitted: _l("Submitted"),
    DutyStatus.accepted: _l("Accepted"),
    DutyStatus.returned: _l("Returned"),
}
ROLE_LABELS = {
    ResponsibilityRole.lead: _l("Lead"),
    ResponsibilityRole.cooperating: _l("Cooperating"),
}
HISTORY_LABELS = {
    "submitted": _l("Signed off"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
    "invalidated": _l("Sign-off withdrawn by a later edit"),
}


def status_label(status: Any) -> str:
    return str(STATUS_LABELS.get(status, status))


def assessment_label(value: Any) -> str:
    return str(ASSESSMENT_LABELS.get(value, value or ""))


def role_label(value: Any) -> str:
    return str(ROLE_LABELS.get(value, value))


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "duty_status_label": status_label,
        "assessment_label": assessment_label,
        "duty_role_label": role_label,
        "duty_statuses": list(DutyStatus),
        "duty_can": lambda action: can(current_user, action),
    }


def _period_arg() -> str:
    raw = request.args.get("period", "")
    if not raw:
        return services.current_period()
    try:
        return services.parse_period(raw)
    except services.DutyError as e:
        flash(str(e.message), "error")
        return services.current_period()


def _page_arg() -> int:
    try:
        return page_number(request.args.get("page"), maximum=10_000)
    except ValueError:
        return 1


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _duty_or_404(duty_id: uuid.UUID) -> Duty:
    duty = services.get_duty(duty_id)
    if duty is None:
        abort(404)
    return duty


def _departments() -> list[Department]:
    return list(
        db.session.execute(sa.select(Department).order_by(Department.sort_order, Department.name))
        .scalars()
        .all()
    )


# --- lists ------------------------------------------------------------------------------


@bp.get("/")
@requires("duty.read", status=404)
def index() -> Any:
    period = _period_arg()
    status = request.args.get("status", "")
    if status not in (*DutyStatus.__members__, "open", "overdue"):
        status = ""
    department_id = _uuid_arg("department") if can(current_user, "district.read_all") else None
    search = request.args.get("q", "").strip()[:80]
    per_page = current_app.config.get("PAGE_SIZE", 25)
    page_no = _page_arg()
    stmt = services.duty_query(
        period=period, status=status, department_id=department_id, search=search
    )
    duty_rows, total = services.page(stmt, page_no, per_page)
    return render_template(
        "duties/index.html",
        rows=duty_rows,
        total=total,
        page=page_no,
        pages=max(1, -(-total // per_page)),
        period=period,
        periods=services.period_choices(services.current_period()),
        status=status,
        department_id=department_id,
        departments=_departments() if can(current_user, "district.read_all") else [],
        search=search,
        bounds=services.period_bounds(period),
    )


@bp.get("/review")
@requires("duty.review", status=404)
def review_queue() -> Any:
    """Submitted duties waiting for the lead, oldest submission first, any period."""
    per_page = current_app.config.get("PAGE_SIZE", 25)
    page_no = _page_arg()
    stmt = services.duty_query(status=DutyStatus.submitted.value).order_by(None)
    stmt = stmt.order_by(Duty.submitted_at, Duty.measure_number)
    duty_rows, total = services.page(stmt, page_no, per_page)
    return render_template(
        "duties/review_queue.html",
        rows=duty_rows,
        total=total,
        page=page_no,
        pages=max(1, -(-total // per_page)),
    )


# --- one duty ---------------------------------------------------------------------------


def _render_detail(
    duty: Duty,
    entry_form: EntryForm | None = None,
    sign_form: SignOffForm | None = None,
    review_form: ReviewForm | None = None,
    status: int = 200,
) -> Any:
    shown = services.duty_page(duty)
    user = current_user._get_current_object()
    can_log = can(user, "duty.log")
    can_sign = can(user, "duty.sign_off") and duty.status in services.OPEN
    can_review = (
        can(user, "duty.review")
        and duty.status == DutyStatus.submitted
        and duty.submitted_by_id != user.id
    )
    # Only the forms this user is shown are built (WTForms is a good part of the page's cost).
    if entry_form is None and can_log:
        entry_form = EntryForm(formdata=None)
        entry_form.work_date.data = min(services.today(), duty.due_date).isoformat()
    if sign_form is None and can_sign:
        sign_form = SignOffForm(formdata=None)
    if review_form is None and can_review:
        review_form = ReviewForm(formdata=None)
    for form in (entry_form, sign_form, review_form):
        if form is not None and not form.row_version.data:
            form.row_version.data = str(duty.row_version)
    return (
        render_template(
            "duties/detail.html",
            duty=duty,
            entries=shown.entries,
            history=shown.history,
            names=shown.names,
            entry_form=entry_form,
            sign_form=sign_form,
            review_form=review_form,
            overdue=services.is_overdue(duty),
            can_log=can_log,
            can_sign=can_sign,
            can_review=can_review,
            history_labels=HISTORY_LABELS,
            history_label=lambda a: str(HISTORY_LABELS.get(a, a)),
        ),
        status,
    )


@bp.get("/<uuid:duty_id>")
@requires("duty.read", status=404)
def detail(duty_id: uuid.UUID) -> Any:
    return _render_detail(_duty_or_404(duty_id))


def _form_error(form: Any, e: services.DutyError) -> None:
    """Put a service error on its field (or flash it) so the user sees what and where."""
    if isinstance(e, services.ConflictError):
        flash(str(e.message), "error")
        form.row_version.data = ""  # the re-rendered form carries the current version
        return
    field = getattr(form, e.field, None) if e.field else None
    if field is None and e.field == "reason" and hasattr(form, "reason"):
        field = form.reason
    if field is not None:
        field.errors = [*list(field.errors or []), str(e.message)]
    else:
        flash(str(e.message), "error")


def _uploads(form: EntryForm) -> list[services.Upload]:
    effective: dt.date | None = None
    raw = (form.evidence_date.data or "").strip()
    if raw:
        try:
            effective = dt.date.fromisoformat(raw)
        except ValueError:
            raise services.DutyError(
                _l("Evidence effective date: please give a date as YYYY-MM-DD."),
                field="evidence_date",
            ) from None
    files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    return [services.Upload(f.filename or "", f.read(), effective) for f in files]


def _entry_input(form: EntryForm) -> services.EntryInput:
    return services.EntryInput(
        work_date=form.work_date.data,
        narrative=form.narrative.data,
        families_reached=(form.families_reached.data or "0").strip(),
        amount_paid=(form.amount_paid.data or "0").strip(),
    )


def _commit_or_redisplay(
    duty_id: uuid.UUID, form_name: str, form: Any, action: Callable[[], object]
) -> Any | None:
    """Run a service action and commit; on a broken rule roll back and show the duty page
    again with the error on the form that caused it (None when it went through)."""
    try:
        action()
        db.session.commit()
    except services.DutyError as e:
        db.session.rollback()
        _form_error(form, e)
        return _render_detail(_duty_or_404(duty_id), status=e.status, **{form_name: form})
    return None


@bp.post("/<uuid:duty_id>/entries")
@requires("duty.log")
def add_entry(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = EntryForm()
    if not form.validate_on_submit():
        return _render_detail(duty, entry_form=form, status=400)
    was = duty.status
    failed = _commit_or_redisplay(
        duty_id,
        "entry_form",
        form,
        lambda: services.add_entry(
            duty,
            current_user,
            _entry_input(form),
            _uploads(form),
            expected_version=form.row_version.data,
        ),
    )
    if failed is not None:
        return failed
    if was in services.SIGNED:
        flash(
            _("The entry was saved. The duty's sign-off was withdrawn: please sign it off again."),
            "warning",
        )
    else:
        flash(_("The progress entry was saved."), "success")
    return redirect(url_for("duties.detail", duty_id=duty.id) + "#entries")


@bp.route("/<uuid:duty_id>/entries/<uuid:entry_id>/edit", methods=["GET", "POST"])
@requires("duty.log")
def edit_entry(duty_id: uuid.UUID, entry_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    entry = db.session.execute(
        sa.select(ProgressEntry).where(
            ProgressEntry.id == entry_id, ProgressEntry.duty_id == duty.id
        )
    ).scalar_one_or_none()
    if entry is None:
        abort(404)
    form = EntryForm(obj=None) if request.method == "POST" else EntryForm(formdata=None)
    status = 200
    if request.method == "GET":
        form.work_date.data = entry.work_date.isoformat()
        form.narrative.data = entry.narrative
        form.families_reached.data = str(entry.families_reached)
        form.amount_paid.data = str(entry.amount_paid)
        form.row_version.data = str(entry.row_version)
    elif form.validate_on_submit():
        try:
            invalidated = services.update_entry(
                entry,
                current_user,
                _entry_input(form),
                _uploads(form),
                expected_version=form.row_version.data,
            )
            db.session.commit()
        except services.DutyError as e:
            db.session.rollback()
            _form_error(form, e)
            status = e.status
            duty = _duty_or_404(duty_id)
            entry = db.session.get(ProgressEntry, (duty.tenant_id, entry_id)) or abort(404)
            if not form.row_version.data:
                form.row_version.data = str(entry.row_version)
        else:
            if invalidated:
                flash(
                    _(
                        "The entry was saved. The duty's sign-off was withdrawn: please sign it off again."
                    ),
                    "warning",
                )
            else:
                flash(_("The progress entry was saved."), "success")
            return redirect(url_for("duties.detail", duty_id=duty.id) + "#entries")
    else:
        status = 400
    return (
        render_template(
            "duties/entry_edit.html", duty=duty, entry=entry, form=form, signed=duty.signed_off
        ),
        status,
    )


@bp.post("/<uuid:duty_id>/sign-off")
@requires("duty.sign_off")
def sign_off(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = SignOffForm()
    if not form.validate_on_submit():
        return _render_detail(duty, sign_form=form, status=400)
    failed = _commit_or_redisplay(
        duty_id,
        "sign_form",
        form,
        lambda: services.sign_off(
            duty,
            current_user,
            assessment=form.assessment.data,
            statement=form.statement.data,
            reason=form.reason.data,
            expected_version=form.row_version.data,
        ),
    )
    if failed is not None:
        return failed
    flash(
        _("The duty was signed off for %(period)s and sent for review.", period=duty.period),
        "success",
    )
    return redirect(url_for("duties.detail", duty_id=duty.id))


@bp.post("/<uuid:duty_id>/review")
@requires("duty.review")
def review(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = ReviewForm()
    decision = request.form.get("decision", "")
    if not form.validate_on_submit() or decision not in ("accept", "return"):
        if decision not in ("accept", "return"):
            flash(_("Choose accept or return."), "error")
        return _render_detail(duty, review_form=form, status=400)
    failed = _commit_or_redisplay(
        duty_id,
        "review_form",
        form,
        lambda: services.review(
            duty,
            current_user,
            accept=decision == "accept",
            reason=form.reason.data,
            expected_version=form.row_version.data,
        ),
    )
    if failed is not None:
        return failed
    if decision == "accept":
        flash(_("The sign-off was accepted."), "success")
    else:
        flash(_("The duty was returned to the department."), "success")
    if request.form.get("next") == "queue":
        return redirect(url_for("duties.review_queue"))
    return redirect(url_for("duties.detail", duty_id=duty.id))


@bp.get("/evidence/<uuid:evidence_id>")
@requires("duty.read", status=404)
def evidence(evidence_id: uuid.UUID) -> Any:
    row = db.session.execute(
        sa.select(EvidenceFile).where(EvidenceFile.id == evidence_id)
    ).scalar_one_or_none()
    if row is None:
        abort(404)
    try:
        path = services.evidence_path(row)
    except services.DutyError:
        abort(404)
    if not path.exists():
        abort(404)
    trail.record(
        db.session,
        "evidence.download",
        entity_type="EvidenceFile",
        entity_id=row.id,
        department_id=row.department_id,
        summary=f"{row.filename} ({row.sha256[:12]})",
    )
    db.session.commit()
    response = send_file(
        path,
        mimetype=row.content_type,
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    downloads.attach(response, row.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- lead actions -----------------------------------------------------------------------


@bp.post("/generate")
@requires("duty.review")
def generate() -> Any:
    try:
        period = services.parse_period(request.form.get("period"))
        result = services.generate_duties(period)
        db.session.commit()
    except services.DutyError as e:
        db.session.rollback()
        flash(str(e.message), "error")
        return redirect(url_for("duties.index"))
    for warning in result.warnings:
        flash(warning, "warning")
    flash(
        _(
            "Duties for %(period)s: %(created)s created, %(updated)s updated, %(removed)s removed, %(kept)s signed off left unchanged.",
            period=period,
            created=result.created,
            updated=result.updated,
            removed=result.removed,
            kept=result.kept_signed,
        ),
        "success",
    )
    return redirect(url_for("duties.index", period=period))


@bp.get("/export.xlsx")
@requires("duty.export", status=404)
def export() -> Any:
    from portal.duties.export import build_workbook

    period = _period_arg()
    data = build_workbook(period, status_label, assessment_label, role_label)
    db.session.commit()  # the export's audit event
    filename = f"{g.tenant.slug}-duties-{period}.xlsx"
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": downloads.content_disposition(filename),
            "Cache-Control": "private, no-store",
        },
    )


# --- home panels ------------------------------------------------------------------------


def _lead_panel() -> dict[str, Any]:
    period = services.current_period()
    matrix = services.status_matrix(period)
    overdue = services.rows(services.duty_query(status="overdue"), limit=10)
    returned = services.rows(services.duty_query(status=DutyStatus.returned.value), limit=10)
    return {
        "period": period,
        "matrix": matrix,
        "totals": services.status_totals(matrix),
        "overdue": overdue,
        "returned": returned,
    }


def _officer_panel() -> dict[str, Any]:
    period = services.current_period()
    stmt = services.duty_query(status="open").where(Duty.period <= period)  # not future ones
    return {"period": period, "rows": services.rows(stmt, limit=10)}


register_home_panel(
    HomePanel("duties/_lead_panel.html", "district.read_all", _lead_panel, order=10)
)
register_home_panel(HomePanel("duties/_officer_panel.html", "duty.log", _officer_panel, order=10))
