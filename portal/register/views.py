"""Register pages under /t/<slug>/register: areas, the list, households, reveal, the
confirmation queue, proposals and Excel import/export. Thin: rules in `operations`,
reads in `queries`; which rows a user sees is the scoping hook's business, so a
household out of scope answers 404 like a missing one.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.kernel import uow
from portal.kernel.grants import requires
from portal.kernel.rules import RuleError
from portal.register import excel, operations, pii, queries
from portal.register import rules as register_rules
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ChangeRequest,
    ExitReason,
    Household,
    HouseholdStatus,
    Person,
    Relationship,
    RequestKind,
    RequestStatus,
)
from portal.register.rules import RegisterError, today
from portal.tenancy import scope
from portal.ui import NavItem, register_nav

bp = Blueprint("register", __name__, url_prefix="/t/<slug>/register", template_folder="templates")

register_nav(
    NavItem(
        _l("Register"), "register.index", "register.read", order=30, when=register_rules.can_read
    )
)

CATEGORY_LABELS = {
    Category.bereaved: _l("Bereaved (only child died)"),
    Category.disabled_child: _l("Only child disabled"),
    Category.surgery_complication: _l("Surgery complication"),
}
STATUS_LABELS = {HouseholdStatus.registered: _l("Registered"), HouseholdStatus.exited: _l("Exited")}
EXIT_LABELS = {
    ExitReason.death: _l("Death"),
    ExitReason.rebirth_adoption: _l("Re-birth or adoption"),
    ExitReason.moved_away: _l("Moved away"),
    ExitReason.no_longer_eligible: _l("No longer eligible"),
}
RELATIONSHIP_LABELS = {
    Relationship.principal: _l("Self"),
    Relationship.spouse: _l("Spouse"),
    Relationship.child: _l("Child"),
    Relationship.other: _l("Other"),
}
KIND_LABELS = {
    RequestKind.enrol: _l("Enrolment"),
    RequestKind.change: _l("Change"),
    RequestKind.exit: _l("Exit"),
}
REQUEST_STATUS_LABELS = {
    RequestStatus.pending: _l("Pending"),
    RequestStatus.confirmed: _l("Confirmed"),
    RequestStatus.returned: _l("Returned"),
}
CHANGE_LABELS = {
    "enrolled": _l("Enrolled as number"),
    "status": _l("Status"),
    "address": _l("Home address"),
    "level": _l("Grade"),
    "village_id": _l("Village"),
}
AGE_BAND_LABELS = {
    "under49": _l("Woman under 49"),
    "49to59": _l("Woman 49–59"),
    "60to69": _l("Woman 60–69"),
    "70plus": _l("Woman 70 or older"),
}


def _label(table: dict, value: Any) -> str:
    return str(table.get(value, value or ""))


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "category_label": lambda v: _label(CATEGORY_LABELS, v),
        "household_status_label": lambda v: _label(STATUS_LABELS, v),
        "exit_label": lambda v: _label(EXIT_LABELS, v),
        "relationship_label": lambda v: _label(RELATIONSHIP_LABELS, v),
        "request_kind_label": lambda v: _label(KIND_LABELS, v),
        "request_status_label": lambda v: _label(REQUEST_STATUS_LABELS, v),
        "change_label": lambda k: str(CHANGE_LABELS.get(k, k)),
        "mask_id": pii.mask_id,
        "mask_phone": pii.mask_phone,
        "register_rules": register_rules,
    }


def _need(predicate: Any) -> None:
    """Out of the register (no grant, or an officer of another department): 404."""
    if not current_user.is_authenticated:
        abort(401)
    if not predicate(current_user):
        abort(404)


def _fail(e: RuleError) -> None:
    """The rule's message for the next page; the request's unit of work commits nothing
    of a rolled-back attempt (the view answers a redirect or the form's error status)."""
    flash(f"{e.field}: {e.message}" if e.field else str(e.message), "error")


def _attempt(action: Any) -> uow.Outcome:
    outcome = uow.attempt(action)
    if outcome.error is not None:
        _fail(outcome.error)
    return outcome


def _household_or_404(household_id: Any) -> Household:
    household = scope.get_scoped(Household, household_id)
    if household is None:
        abort(404)
    return household


def _page() -> int:
    try:
        return max(1, min(10_000, int(request.args.get("page", 1))))
    except ValueError:
        return 1


# -- list, household, reveal -----------------------------------------------------------


@bp.get("/")
@requires("register.read", status=404)
def index() -> Any:
    _need(register_rules.can_read)
    filters = queries.Filters.from_args(request.args)
    on = today()
    per_page = 25
    page = _page()
    rows, total = queries.list_households(filters, on, page, per_page)
    towns, villages = queries.areas()
    return render_template(
        "register/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // per_page)),
        filters=filters,
        towns=towns,
        villages=villages,
        on=on,
        categories=list(Category),
        statuses=list(HouseholdStatus),
        age_bands=AGE_BAND_LABELS,
        counts=queries.counts(),
    )


@bp.post("/search")
@requires("register.read", status=404)
def search() -> Any:
    """The list's filter form posts here, so a typed ID number never lands in a URL (nor in
    access logs or browser history): it is replaced by its blind index."""
    _need(register_rules.can_read)
    filters = queries.Filters.from_args(request.form).with_search(request.form.get("q", ""))
    return redirect(url_for("register.index", **filters.as_dict()))


@bp.get("/export.xlsx")
@requires("register.export", status=404)
def export() -> Any:
    """Masked always; the export is an audit event with its filters and row count."""
    _need(register_rules.can_export)
    filters = queries.Filters.from_args(request.args)
    on = today()
    rows, total = queries.list_households(filters, on, 1, 50_000)
    data = excel.export_households(rows, on, _label_maps())
    operations.record_export("xlsx", total, filters.as_dict())
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX,
        as_attachment=True,
        download_name="register.xlsx",
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.post("/export-full.xlsx")
@requires("register.export_full", status=404)
def export_full() -> Any:
    """Unmasked numbers, for the eligibility department only, with a reason; audited."""
    _need(register_rules.can_export_full)
    filters = queries.Filters.from_args(request.form)
    on = today()
    rows, total = queries.list_households(filters, on, 1, 50_000)
    reason = request.form.get("reason", "")
    outcome = _attempt(lambda: operations.record_export("xlsx", total, filters.as_dict(), reason))
    if not outcome.ok:
        return redirect(url_for("register.index", **filters.as_dict()))
    data = excel.export_households(rows, on, _label_maps(), full=True)
    response = send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="register-full.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _label_maps() -> dict[str, Any]:
    return {
        "category": lambda v: _label(CATEGORY_LABELS, v),
        "status": lambda v: _label(STATUS_LABELS, v),
        "exit": lambda v: _label(EXIT_LABELS, v),
        "relationship": lambda v: _label(RELATIONSHIP_LABELS, v),
    }


def _household_page(h: Household, revealed: dict | None = None) -> str:
    towns, villages = queries.areas()
    return render_template(
        "register/household.html",
        h=h,
        on=today(),
        history=queries.household_history(h),
        revealed=revealed,
        villages=villages.get(h.town_id, []),
        exit_reasons=list(ExitReason),
    )


@bp.get("/households/<household_id>")
@requires("register.read", status=404)
def household(household_id: str) -> Any:
    _need(register_rules.can_read)
    return _household_page(_household_or_404(household_id))


@bp.post("/persons/<person_id>/reveal")
@requires("register.reveal", status=404)
def reveal(person_id: str) -> Any:
    """查看完整信息: the numbers in this response only (never stored, never cached)."""
    _need(register_rules.can_reveal)
    person = scope.get_scoped(Person, person_id)
    if person is None:
        abort(404)
    h = _household_or_404(person.household_id)
    reason = request.form.get("reason", "")
    outcome = _attempt(lambda: operations.reveal(current_user, person, reason))
    if not outcome.ok:
        return redirect(url_for("register.household", household_id=h.id))
    page = _household_page(h, {"person_id": person.id, **outcome.value})
    return page, 200, {"Cache-Control": "no-store"}


# -- proposals -------------------------------------------------------------------------


def _members_from_form(form: Any) -> list[dict]:
    members = []
    for i in range(4):
        raw = {
            k: form.get(f"m{i}_{k}", "")
            for k in ("relationship", "name", "id_number", "phone", "disability_grade")
        }
        if raw["name"] or raw["id_number"]:
            members.append(raw)
    return members


@bp.route("/propose", methods=["GET", "POST"])
@requires("register.propose", status=404)
def propose() -> Any:
    _need(register_rules.can_propose)
    town_id = operations.officer_town_id(current_user)
    towns, villages = queries.areas()
    status = 200
    if request.method == "POST":
        fields = ("village_id", "category", "level", "address", "registered_on", "evidence_note")
        data: dict[str, Any] = {k: request.form.get(k, "") for k in fields}
        data["members"] = _members_from_form(request.form)
        outcome = _attempt(lambda: operations.propose_enrol(current_user, data))
        if outcome.ok:
            flash(
                _(
                    "The enrolment was proposed; it counts once the eligibility department "
                    "confirms it."
                ),
                "success",
            )
            return redirect(url_for("register.requests_queue"))
        status = outcome.status if outcome.status != 404 else 400
    page = render_template(
        "register/propose.html",
        villages=villages.get(town_id, []) if town_id else [],
        categories=list(Category),
        relationships=list(Relationship),
        form=request.form,
    )
    return page, status


@bp.post("/households/<household_id>/change")
@requires("register.propose", status=404)
def propose_change(household_id: str) -> Any:
    _need(register_rules.can_propose)
    h = _household_or_404(household_id)
    form = request.form
    data: dict[str, Any] = {
        k: form[k] for k in ("address", "level", "village_id", "evidence_note") if k in form
    }
    data["members"] = [
        {
            "person_id": str(p.id),
            "phone": form.get(f"phone_{p.id}", ""),
            "death_date": form.get(f"death_{p.id}", ""),
        }
        for p in h.persons
        if form.get(f"phone_{p.id}") or form.get(f"death_{p.id}")
    ]
    version = form.get("row_version")
    if _attempt(lambda: operations.propose_change(current_user, h, data, version)).ok:
        flash(_("The change was proposed."), "success")
    return redirect(url_for("register.household", household_id=h.id))


@bp.post("/households/<household_id>/exit")
@requires("register.propose", status=404)
def propose_exit(household_id: str) -> Any:
    _need(register_rules.can_propose)
    h = _household_or_404(household_id)
    form = dict(request.form)
    if _attempt(lambda: operations.propose_exit(current_user, h, form, form.get("row_version"))).ok:
        flash(_("The exit was proposed."), "success")
    return redirect(url_for("register.household", household_id=h.id))


# -- confirmation queue ----------------------------------------------------------------


@bp.get("/requests")
@requires("register.read", status=404)
def requests_queue() -> Any:
    _need(register_rules.can_read)
    status = request.args.get("status", "pending")
    return render_template(
        "register/requests.html",
        rows=queries.requests(status),
        status=status,
        statuses=list(RequestStatus),
        batches=queries.pending_batches() if register_rules.can_confirm(current_user) else [],
    )


@bp.post("/requests/<request_id>/decide")
@requires("register.confirm", status=404)
def decide(request_id: str) -> Any:
    _need(register_rules.can_confirm)
    change = scope.get_scoped(ChangeRequest, request_id)
    if change is None:
        abort(404)
    form = request.form

    def act() -> str:
        if form.get("decision") == "confirm":
            operations.confirm(current_user, change, form.get("row_version"))
            return _("Confirmed.")
        if form.get("decision") == "return":
            reason = form.get("reason", "")
            operations.return_request(current_user, change, reason, form.get("row_version"))
            return _("Returned to the proposer.")
        raise RegisterError(_l("Choose confirm or return."), "decision")

    outcome = _attempt(act)
    if outcome.ok:
        flash(outcome.value, "success")
    return redirect(url_for("register.requests_queue"))


@bp.post("/batches/<batch>/confirm")
@requires("register.confirm", status=404)
def confirm_batch(batch: str) -> Any:
    _need(register_rules.can_confirm)
    outcome = _attempt(lambda: operations.confirm_batch(current_user, batch[:40]))
    if outcome.ok:
        flash(_("%(n)d requests confirmed.", n=outcome.value), "success")
    return redirect(url_for("register.requests_queue"))


# -- areas -----------------------------------------------------------------------------


@bp.route("/areas", methods=["GET", "POST"])
@requires("register.read", status=404)
def areas() -> Any:
    _need(register_rules.can_read)
    status = 200
    if request.method == "POST":
        _need(register_rules.can_manage_areas)
        outcome = _attempt(_save_areas)
        if outcome.ok:
            flash(outcome.value, "success")
            return redirect(url_for("register.areas"))
        status = 400
    towns, villages = queries.areas()
    return render_template("register/areas.html", towns=towns, villages=villages), status


def _save_areas() -> str:
    upload = request.files.get("file")
    if upload and upload.filename:
        t, v = operations.import_areas(excel.read_two_columns(upload.stream))
        return _("%(t)d towns and %(v)d villages read.", t=t, v=v)
    parent = None
    kind = AreaKind.town
    if request.form.get("parent_id"):
        parent = scope.get_scoped(Area, request.form["parent_id"])
        if parent is None:
            raise RegisterError(_l("Choose a town."), "parent_id")
        kind = AreaKind.village
    operations.add_area(request.form.get("name", ""), kind, parent)
    return _("Saved.")


# -- import ----------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("register.import", status=404)
def import_sheet() -> Any:
    """Upload → map columns → preview with errors → import the valid rows."""
    _need(register_rules.can_import)
    if request.method == "GET":
        return render_template(
            "register/import.html", stage="upload", mapping=excel.saved_mapping()
        )
    town_id = operations.officer_town_id(current_user)
    stage = request.form.get("stage", "upload")
    if stage not in ("upload", "preview", "rejected", "import"):
        abort(400)
    outcome = _attempt(lambda: _import_step(stage, town_id))
    if not outcome.ok:
        page = render_template(
            "register/import.html", stage="upload", mapping=excel.saved_mapping()
        )
        return page, outcome.status if outcome.status != 404 else 400
    return outcome.value


def _import_step(stage: str, town_id: Any) -> Any:
    if stage == "upload":
        token, headings = excel.stash_upload(request.files.get("file"))
        mapping = excel.guess_mapping(headings, excel.saved_mapping())
        return render_template(
            "register/import.html",
            stage="map",
            token=token,
            headings=headings,
            mapping=mapping,
            fields=excel.FIELDS,
        )
    token = request.form.get("token", "")
    mapping = {f: request.form.get(f"map_{f}", "") for f, _label in excel.FIELDS}
    result = excel.validate(token, mapping, town_id)
    if stage == "preview":
        excel.remember_mapping(mapping)
        return render_template(
            "register/import.html",
            stage="preview",
            token=token,
            mapping=mapping,
            result=result,
            fields=excel.FIELDS,
        )
    if stage == "rejected":
        return send_file(
            io.BytesIO(excel.rejected_workbook(result)),
            mimetype=XLSX,
            as_attachment=True,
            download_name="rejected.xlsx",
        )
    batch = excel.import_valid(current_user, result, token)
    flash(
        _(
            "%(n)d rows became change requests (batch %(b)s); %(r)d rows were rejected.",
            n=len(result.valid),
            b=batch,
            r=len(result.errors_by_row),
        ),
        "success",
    )
    return redirect(url_for("register.requests_queue"))


def init_app(app: Any) -> None:
    pii.init_app(app)
