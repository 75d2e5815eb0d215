"""Duty pages under /t/<slug>/duties: lists, detail, progress entries, sign-off, review, export.

Thin: the rules live in `portal.duties.operations` (writes) and `portal.duties.queries`
(reads); each write runs through the kernel's unit of work (`attempt`: on a broken rule
the same page is shown again with the user's input and the message beside the field;
the request commits once when its response is sent). What a user may see is decided by
the scoping hook (an officer's queries only ever return their department's rows).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal import listing
from portal.audit import trail
from portal.duties import generation, operations, queries, rules, storage
from portal.duties.forms import ASSESSMENT_LABELS, EntryForm, GenerateForm, ReviewForm, SignOffForm
from portal.duties.models import Duty, DutyStatus
from portal.duties.rules import STATUS_LABELS, status_label  # noqa: F401  (the back office reads views.STATUS_LABELS)
from portal.kernel import clock, downloads, memo, periods, signals
from portal.kernel.grants import can, requires
from portal.kernel.labels import labeller
from portal.kernel.periods import Period
from portal.kernel.rules import RuleError
from portal.kernel.uow import attempt
from portal.policy.models import Measure, ResponsibilityRole
from portal.tenancy import scope
from portal.tenancy import services as tenancy
from portal.tenancy.models import Department
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav
from portal.webhelpers import found_or_404

bp = Blueprint("duties", __name__, url_prefix="/t/<slug>/duties", template_folder="templates")

register_nav(NavItem(_l("Duties"), "duties.index", "duty.read", order=20))
register_nav(NavItem(_l("Review queue"), "duties.review_queue", "duty.review", order=21))

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


assessment_label = labeller(ASSESSMENT_LABELS)
role_label = labeller(ROLE_LABELS)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "duty_status_label": status_label,
        "assessment_label": assessment_label,
        "duty_role_label": role_label,
        "duty_statuses": list(DutyStatus),
        "duty_can": lambda action: can(current_user, action),
    }


def _period_arg() -> Period:
    raw = request.args.get("period", "")
    if not raw:
        return Period.current()
    try:
        return Period.parse(raw)
    except RuleError as e:
        flash(str(e.message), "error")
        return Period.current()


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _duty_or_404(duty_id: uuid.UUID) -> Duty:
    return found_or_404(queries.get_duty(duty_id))


def _generate_form(period: Period) -> GenerateForm:
    form = GenerateForm(formdata=None)
    form.set_periods(period)
    return form


# --- lists ------------------------------------------------------------------------------


def _load_rows(stmt: sa.Select, limit: int | None, offset: int) -> list[queries.DutyRow]:
    return queries.rows(stmt, limit=limit or listing.EXPORT_LIMIT, offset=offset)


def _progress_text(r: queries.DutyRow) -> str:
    return _("%(n)d entries", n=r.entries) + " · " + _("%(n)d families", n=r.families)


#: The duty list's columns: headers, export cells and the (whitelisted) sort expressions.
DUTY_COLUMNS = [
    listing.Column(
        "measure",
        _l("Measure"),
        lambda r: f"{r.duty.measure_number} {r.duty.measure.title}",
        sort=(Measure.position, Duty.measure_number),
    ),
    listing.Column(
        "department",
        _l("Department"),
        lambda r: r.duty.department.name,
        sort=(Department.sort_order, Department.name),
    ),
    listing.Column("role", _l("Responsibility"), lambda r: role_label(r.duty.role), sort=Duty.role),
    listing.Column(
        "status",
        _l("Status"),
        lambda r: status_label(r.duty.status) + (f" · {_('Overdue')}" if r.overdue else ""),
        sort=Duty.status,
    ),
    listing.Column("due", _l("Due date"), lambda r: r.duty.due_date, sort=Duty.due_date),
    listing.Column("progress", _l("Progress"), _progress_text),
]
REVIEW_COLUMNS = [
    listing.Column(
        "period", _l("Period"), lambda r: periods.label(r.duty.period), sort=Duty.period
    ),
    DUTY_COLUMNS[0],
    DUTY_COLUMNS[1],
    listing.Column("assessment", _l("Assessment"), lambda r: assessment_label(r.duty.assessment)),
    listing.Column(
        "submitted", _l("Signed off"), lambda r: r.duty.submitted_at, sort=Duty.submitted_at
    ),
    DUTY_COLUMNS[5],
]


@bp.get("/")
@requires("duty.read", status=404)
def index() -> Any:
    period = _period_arg()
    status = request.args.get("status", "")
    if status not in queries.STATUS_FILTERS:
        status = ""
    read_all = can(current_user, "district.read_all")
    department_id = _uuid_arg("department") if read_all else None
    search = listing.search_arg()
    columns = DUTY_COLUMNS if read_all else [c for c in DUTY_COLUMNS if c.key != "department"]
    lst = listing.Listing.from_request(
        "duties.index",
        columns,
        keep={"period": period.code, "status": status, "department": department_id, "q": search},
        title=_("Duties"),
    )
    stmt = queries.duty_query(
        period=period, status=status, department_id=department_id, search=search
    )
    periods_ = Period.choices(Period.current())
    if period not in periods_:
        periods_ = sorted({*periods_, period}, reverse=True)
    return lst.answer(
        "duties/index.html",
        stmt,
        _load_rows,
        (Duty.id,),
        period=period,
        periods=periods_,
        status=status,
        department_id=department_id,
        departments=tenancy.departments_in_order() if read_all else [],
        search=search,
        generate_form=_generate_form(period) if can(current_user, "duty.review") else None,
        # an expired policy, a draft only, or none: said on the list of the half-year
        policy_notice=_policy_notice(period),
    )


def _evidence_figures(duty: Duty | queries.ShownDuty) -> list[dict[str, Any]]:
    """The live figures the domains above duties give for this duty (counts only, the same
    for every reader), kept up to a minute: each page view asked them again."""

    def ask() -> tuple[dict[str, Any], ...]:
        answers = signals.responses(signals.duty_evidence.send(duty))
        return tuple(
            {k: str(v) if v is not None else None for k, v in figure.items()}
            for answer in answers
            for figure in answer  # type: ignore[attr-defined]
        )

    key = ("duty_evidence", duty.id, str(get_locale()), clock.today())
    return list(memo.remembered(key, ask, duty.tenant_id))


def _policy_notice(period: Period) -> str | None:
    """The half-year's policy notice, kept up to a minute (asked on every list view)."""
    # the notice is a sentence in the reader's language
    tenant_id = scope.current().tenant_id
    key = ("policy_notice", tenant_id, period.code, str(get_locale()))
    notice = memo.remembered(key, lambda: generation.version_for_period(period)[1] or "", tenant_id)
    return notice or None


@bp.get("/review")
@requires("duty.review", status=404)
def review_queue() -> Any:
    """Submitted duties waiting for review, oldest submission first, any period."""
    search = listing.search_arg()
    lst = listing.Listing.from_request(
        "duties.review_queue", REVIEW_COLUMNS, keep={"q": search}, title=_("Review queue")
    )
    stmt = queries.review_queue(search=search)
    return lst.answer("duties/review_queue.html", stmt, _load_rows, (Duty.id,), search=search)


# --- one duty ---------------------------------------------------------------------------


class _BlankForm:
    """A blank duty form whose fields `ui.kept_html` draws once per language and default:
    the WTForms object is built only when they must be drawn (the first time), since the
    rest of the page reads only the CSRF token, the version read and the (no) messages.
    Building the page's two forms cost about 0.4 ms of every view."""

    form_errors: tuple[str, ...] = ()

    def __init__(self, build: Any, row_version: int) -> None:
        self._build = build
        self._form: Any = None
        self.row_version = _Version(str(row_version))

    @property
    def csrf_token(self) -> Markup:
        # what Flask-WTF's hidden CSRF field draws, with the same session token
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="{}">').format(
            generate_csrf()
        )

    def __getattr__(self, name: str) -> Any:
        if self._form is None:
            self._form = self._build()
        return getattr(self._form, name)


@dataclass(frozen=True)
class _Version:
    data: str
    errors: tuple[str, ...] = ()


def _blank_entry_form(work_date: str) -> EntryForm:
    form = EntryForm(formdata=None)
    form.work_date.data = work_date
    return form


def _render_detail(
    duty: Duty | queries.ShownDuty,
    entry_form: EntryForm | None = None,
    sign_form: SignOffForm | None = None,
    review_form: ReviewForm | None = None,
    status: int = 200,
    shown: queries.DutyPage | None = None,
) -> Any:
    """The duty's page: `duty` the ORM object a write path loaded (its entries and history
    are read here), or the `ShownDuty` read with them (`shown`)."""
    if shown is None:
        shown = queries.duty_page(duty)  # type: ignore[arg-type]
    user = current_user._get_current_object()
    can_log = rules.can_log(user, duty)
    can_sign = rules.can_sign_off(user, duty)
    can_review = rules.can_review(user, duty)
    # Only the forms this user is shown are made. A blank one's fields are drawn once per
    # language (`ui.kept_html`, under the key in `kept`); a form handed in holds the
    # user's input or messages and is drawn every time (key None).
    kept: dict[str, Any] = {"entry": None, "sign": None, "review": None}
    for form in (entry_form, sign_form, review_form):
        if form is not None and not form.row_version.data:
            form.row_version.data = str(duty.row_version)
    if entry_form is None and can_log:
        work_date = min(clock.today(), duty.due_date).isoformat()
        entry_form = _BlankForm(functools.partial(_blank_entry_form, work_date), duty.row_version)  # type: ignore[assignment]
        kept["entry"] = ("duties.entry_fields", work_date)
    if sign_form is None and can_sign:
        sign_form = _BlankForm(functools.partial(SignOffForm, formdata=None), duty.row_version)  # type: ignore[assignment]
        kept["sign"] = "duties.sign_off_fields"
    if review_form is None and can_review:
        review_form = _BlankForm(functools.partial(ReviewForm, formdata=None), duty.row_version)  # type: ignore[assignment]
        kept["review"] = "duties.review_fields"
    return (
        render_template(
            "duties/detail.html",
            duty=duty,
            period=Period.parse(duty.period),
            entries=shown.entries,
            history=shown.history,
            names=shown.names,
            entry_form=entry_form,
            sign_form=sign_form,
            review_form=review_form,
            overdue=queries.is_overdue(duty),
            can_log=can_log,
            can_sign=can_sign,
            can_review=can_review,
            kept=kept,
            history_label=labeller(HISTORY_LABELS),
            evidence_figures=_evidence_figures(duty),
        ),
        status,
    )


@bp.get("/<uuid:duty_id>")
@requires("duty.read", status=404)
def detail(duty_id: uuid.UUID) -> Any:
    # the duty as plain values with its entries and history: one scoped statement
    duty, shown = found_or_404(queries.shown_duty_page(duty_id))
    return _render_detail(duty, shown=shown)


def _uploads(form: EntryForm) -> list[storage.Upload]:
    effective: dt.date | None = None
    raw = (form.evidence_date.data or "").strip()
    if raw:
        try:
            effective = dt.date.fromisoformat(raw)
        except ValueError:
            raise rules.DutyError(
                _l("Please give a date as YYYY-MM-DD."), field="evidence_date"
            ) from None
    files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    return [storage.Upload(f.filename or "", f.read(), effective) for f in files]


def _entry_input(form: EntryForm) -> operations.EntryInput:
    return operations.EntryInput(
        work_date=form.work_date.data,
        narrative=form.narrative.data,
        families_reached=(form.families_reached.data or "0").strip(),
        amount_paid=(form.amount_paid.data or "0").strip(),
    )


def _after_refusal(form: Any, error: RuleError | None) -> None:
    """A stale version: the form is shown again with the user's input and the current
    version, so saving again is a deliberate choice over what someone else saved. A
    browser cannot keep chosen files across a redisplay: say so beside the files."""
    if isinstance(error, rules.ConflictError):
        form.row_version.data = ""
    files = getattr(form, "files", None)
    if files is not None and not files.errors and any(f.filename for f in request.files.values()):
        files.errors = [_("Nothing was saved: please choose the files again.")]


def _refused_page(duty_id: uuid.UUID, outcome: Any, **form: Any) -> Any | None:
    """None when the write went through; else the duty page again with the refused form
    (named as `_render_detail` takes it) keeping the user's input."""
    if outcome.ok:
        return None
    _after_refusal(next(iter(form.values())), outcome.error)
    return _render_detail(_duty_or_404(duty_id), status=outcome.status, **form)


def _posted(duty: Duty, form: Any, slot: str, act: Any, refuse: str | None = None) -> Any | None:
    """One of the duty page's forms posted: checked (`refuse`: a further reason to turn it
    down), then `act` run through the unit of work. None when the write went through; else
    the duty page again with the form (named `slot` as `_render_detail` takes it)."""
    valid = form.validate_on_submit()
    if refuse:
        form.form_errors.append(refuse)
    if not valid or refuse:
        return _render_detail(duty, status=400, **{slot: form})
    return _refused_page(duty.id, attempt(act, form), **{slot: form})


def _saved_entry_message(invalidated: bool) -> None:
    if invalidated:
        flash(
            _("The entry was saved. The duty's sign-off was withdrawn: please sign it off again."),
            "warning",
        )
    else:
        flash(_("The progress entry was saved."), "success")


@bp.post("/<uuid:duty_id>/entries")
@requires("duty.log")
def add_entry(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = EntryForm()
    was_signed = duty.signed_off
    refused = _posted(
        duty,
        form,
        "entry_form",
        lambda: operations.add_entry(
            duty,
            current_user,
            _entry_input(form),
            _uploads(form),
            expected_version=form.row_version.data,
        ),
    )
    if refused is not None:
        return refused
    _saved_entry_message(was_signed)
    return redirect(url_for("duties.detail", duty_id=duty_id) + "#entries")


@bp.route("/<uuid:duty_id>/entries/<uuid:entry_id>/edit", methods=["GET", "POST"])
@requires("duty.log")
def edit_entry(duty_id: uuid.UUID, entry_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    entry = queries.get_entry(duty, entry_id) or abort(404)
    status = 200
    if request.method == "GET":
        form = EntryForm(formdata=None)
        form.work_date.data = entry.work_date.isoformat()
        form.narrative.data = entry.narrative
        form.families_reached.data = str(entry.families_reached)
        form.amount_paid.data = str(entry.amount_paid)
        form.row_version.data = str(entry.row_version)
    else:
        form = EntryForm()
        if not form.validate_on_submit():
            status = 400
        else:
            outcome = attempt(
                lambda: operations.update_entry(
                    entry,
                    current_user,
                    _entry_input(form),
                    _uploads(form),
                    expected_version=form.row_version.data,
                ),
                form,
            )
            if outcome.ok:
                _saved_entry_message(bool(outcome.value))
                return redirect(url_for("duties.detail", duty_id=duty_id) + "#entries")
            status = outcome.status
            _after_refusal(form, outcome.error)
            duty = _duty_or_404(duty_id)
            entry = queries.get_entry(duty, entry_id) or abort(404)
            if not form.row_version.data:
                form.row_version.data = str(entry.row_version)
    return (
        render_template(
            "duties/entry_edit.html",
            duty=duty,
            entry=entry,
            form=form,
            signed=duty.signed_off,
        ),
        status,
    )


@bp.post("/<uuid:duty_id>/sign-off")
@requires("duty.sign_off")
def sign_off(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = SignOffForm()
    refused = _posted(
        duty,
        form,
        "sign_form",
        lambda: operations.sign_off(
            duty,
            current_user,
            assessment=form.assessment.data,
            statement=form.statement.data,
            reason=form.reason.data,
            expected_version=form.row_version.data,
        ),
    )
    if refused is not None:
        return refused
    flash(
        _(
            "The duty was signed off for %(period)s and sent for review.",
            period=periods.label(duty.period),
        ),
        "success",
    )
    return redirect(url_for("duties.detail", duty_id=duty_id))


@bp.post("/<uuid:duty_id>/review")
@requires("duty.review")
def review(duty_id: uuid.UUID) -> Any:
    duty = _duty_or_404(duty_id)
    form = ReviewForm()
    decision = request.form.get("decision", "")
    refused = _posted(
        duty,
        form,
        "review_form",
        lambda: operations.review(
            duty,
            current_user,
            accept=decision == "accept",
            reason=form.reason.data,
            expected_version=form.row_version.data,
        ),
        refuse=None if decision in ("accept", "return") else _("Choose accept or return."),
    )
    if refused is not None:
        return refused
    if decision == "accept":
        flash(_("The sign-off was accepted."), "success")
    else:
        flash(_("The duty was returned to the department."), "success")
    if request.form.get("next") == "queue":
        return redirect(url_for("duties.review_queue"))
    return redirect(url_for("duties.detail", duty_id=duty_id))


@bp.get("/evidence/<uuid:evidence_id>")
@requires("duty.read", status=404)
def evidence(evidence_id: uuid.UUID) -> Any:
    row = found_or_404(queries.get_evidence(evidence_id))
    try:
        path = storage.path_of(row)
    except RuleError:
        abort(404)
    if not path.exists():
        abort(404)
    trail.record_on(
        row,
        "evidence.download",
        department_id=row.department_id,
        summary=f"{row.filename} ({row.sha256[:12]})",
    )
    response = send_file(
        path,
        mimetype=row.content_type.split(";")[0].strip(),  # Flask adds the charset once
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    downloads.attach(response, row.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response  # the request's unit of work commits the download's audit event


# --- lead actions -----------------------------------------------------------------------


@bp.post("/generate")
@requires("duty.review")
def generate() -> Any:
    from portal.duties.generation import generate_duties

    form = GenerateForm()
    try:  # the list shown around the page's half-year, which may be an older one
        form.set_periods(Period.parse(request.form.get("period")))
    except RuleError:
        form.set_periods(Period.current())
    if not form.validate_on_submit():
        for message in (*form.period.errors, *form.form_errors):
            flash(str(message), "error")
        return redirect(url_for("duties.index"))
    period = Period.parse(form.period.data)
    outcome = attempt(lambda: generate_duties(current_user, period))
    if not outcome.ok or outcome.value is None:
        flash(str(outcome.error.message) if outcome.error else "", "error")
        return redirect(url_for("duties.index", period=period.code))
    result = outcome.value
    for warning in result.warnings:
        flash(warning, "warning")
    flash(
        _(
            "Duties for %(period)s: %(created)s created, %(updated)s updated, %(removed)s removed, %(kept)s signed off left unchanged.",
            period=period.label,
            created=result.created,
            updated=result.updated,
            removed=result.removed,
            kept=result.kept_signed,
        ),
        "success",
    )
    return redirect(url_for("duties.index", period=period.code))


@bp.get("/export.xlsx")
@requires("duty.export", status=404)
def export() -> Any:
    from portal.duties.export import build_workbook

    period = _period_arg()
    data = build_workbook(period, status_label, assessment_label, role_label)
    filename = f"{g.tenant.slug}-duties-{period.code}.xlsx"
    return downloads.file_answer(data, filename, downloads.XLSX, no_store=True)


# --- home panels ------------------------------------------------------------------------


# The lead's and the officer's panels, both of the current half-year.
for _template, _grant, _panel in (
    ("duties/_lead_panel.html", "district.read_all", queries.lead_panel),
    ("duties/_officer_panel.html", "duty.log", queries.officer_panel),
):
    register_home_panel(
        HomePanel(_template, _grant, lambda panel=_panel: panel(Period.current()), order=10)
    )
