"""Register pages under /t/<slug>/register: areas, the list, households, reveal, the
confirmation queue, proposals and Excel import/export. Thin: rules in `operations`,
reads in `queries`; which rows a user sees is the scoping hook's business, so a
household out of scope answers 404 like a missing one.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.kernel import uow
from portal.kernel.grants import requires
from portal.kernel.rules import RuleError
from portal.register import accounts, excel, operations, pii, queries
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


def _id_in_url() -> Any:
    """A resident ID number in a GET URL would be written to access logs: refused (400)
    with the way to search instead (the form posts, and keeps only the blind index)."""
    if not queries.id_in_args(request.args):
        return None
    message = _(
        "A resident ID number must not be put in the address bar; type it in the search "
        "box instead."
    )
    return render_template("error.html", status=400, message=message), 400


# -- list, household, reveal -----------------------------------------------------------


#: The register list's columns (sortable by what the households table holds). Its export
#: stays the register's own masked one (`export`), which takes the same filters.
HOUSEHOLD_COLUMNS = [
    listing.Column("number", _l("File number"), lambda h: h.number, sort=Household.number),
    listing.Column("name", _l("Name"), lambda h: h.head_name, sort=Household.head_name),
    listing.Column("town", _l("Town"), lambda h: h.town.name),
    listing.Column("village", _l("Village"), lambda h: h.village.name),
    listing.Column("category", _l("Category"), lambda h: h.category, sort=Household.category),
    listing.Column("age", _l("Woman's age"), lambda h: h.woman_birth_date),
    listing.Column(
        "registered",
        _l("Years registered"),
        lambda h: h.registered_on,
        sort=Household.registered_on,
    ),
    listing.Column("status", _l("Status"), lambda h: h.status, sort=Household.status),
]


@bp.get("/")
@requires("register.read", status=404)
def index() -> Any:
    _need(register_rules.can_read)
    if refused := _id_in_url():
        return refused
    filters = queries.Filters.from_args(request.args)
    on = today()
    counts = queries.counts()
    lst = listing.Listing.from_request(
        "register.index", HOUSEHOLD_COLUMNS, keep=filters.as_dict(), title=_("Register")
    )
    rows, total = lst.fetch(queries.household_select(filters, on), tiebreak=(Household.id,))
    towns, villages = queries.areas()
    return render_template(
        "register/index.html",
        rows=rows,
        total=total,
        listing=lst,
        filters=filters,
        towns=towns,
        villages=villages,
        on=on,
        categories=list(Category),
        statuses=list(HouseholdStatus),
        age_bands=AGE_BAND_LABELS,
        counts=counts,
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
    if refused := _id_in_url():
        return refused
    filters = queries.Filters.from_args(request.args)
    on = today()
    rows, total = queries.list_households(filters, on, 1, 50_000)
    queries.areas()  # towns and villages into the session: the rows' names without a query
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
    queries.areas()
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


# -- accounts: town officers' towns, village contacts ----------------------------------


def _accounts_page(status: int = 200, error: RuleError | None = None, created: Any = None) -> Any:
    towns, villages = queries.areas()
    town_id = accounts.actor_town_id(current_user)
    if current_user.role == "town_officer":
        towns = [t for t in towns if t.id == town_id]
    officers = accounts.town_officers() if register_rules.can_manage_officers(current_user) else []
    page = render_template(
        "register/accounts.html",
        towns=towns,
        villages=villages,
        all_towns={t.id: t for t in queries.areas()[0]},
        officers=officers,
        contacts=accounts.contacts(current_user),
        form=request.form if error is not None else {},
        error=error,
        created=created,
    )
    headers = {"Cache-Control": "no-store"} if created is not None else {}
    return page, status, headers


def _accounts_step(action: Any, message: str) -> Any:
    """One account change: a redirect with its message, or the page with the error by
    its field (the request's unit of work rolls the attempt back)."""
    outcome = uow.attempt(action)
    if outcome.error is not None:
        if outcome.status == 404:
            abort(404)
        return _accounts_page(400, outcome.error)
    flash(message if outcome.value is not False else _("Nothing changed."), "success")
    return redirect(url_for("register.accounts_page"))


@bp.get("/accounts")
@requires("register.contacts", status=404)
def accounts_page() -> Any:
    """Town officers' towns (the lead) and the village-contact accounts (lead: the
    district's; town officer: their town's)."""
    return _accounts_page()


@bp.post("/accounts/officers/<user_id>/town")
@requires("register.officers", status=404)
def bind_officer(user_id: str) -> Any:
    return _accounts_step(
        lambda: accounts.bind_officer_town(current_user, user_id, request.form.get("town_id")),
        _("The town officer's town was saved."),
    )


@bp.post("/accounts/contacts")
@requires("register.contacts", status=404)
def create_contact() -> Any:
    from flask import g

    form = request.form
    outcome = uow.attempt(
        lambda: accounts.create_contact(
            current_user,
            g.tenant,
            form.get("username", ""),
            form.get("display_name", ""),
            form.get("village_id"),
        )
    )
    if outcome.error is not None:
        if outcome.status == 404:
            abort(404)
        return _accounts_page(400, outcome.error)
    return _accounts_page(created=outcome.value)


@bp.post("/accounts/contacts/<user_id>/village")
@requires("register.contacts", status=404)
def reassign_contact(user_id: str) -> Any:
    return _accounts_step(
        lambda: accounts.reassign_contact(current_user, user_id, request.form.get("village_id")),
        _("The contact was moved to the village."),
    )


@bp.post("/accounts/contacts/<user_id>/active")
@requires("register.contacts", status=404)
def contact_active(user_id: str) -> Any:
    active = request.form.get("active") == "1"
    return _accounts_step(
        lambda: accounts.set_contact_active(current_user, user_id, active),
        _("The account was reactivated.") if active else _("The account was deactivated."),
    )


@bp.route("/accounts/contacts/<user_id>/households", methods=["GET", "POST"])
@requires("register.contacts", status=404)
def contact_households(user_id: str) -> Any:
    """The households of the contact's village it looks after (ticked: assigned)."""
    try:
        user, binding = accounts.contact_for(current_user, user_id)
    except RuleError:
        abort(404)
    status = 200
    if request.method == "POST":
        outcome = _attempt(
            lambda: accounts.assign_households(
                current_user, user_id, request.form.getlist("household")
            )
        )
        if outcome.ok:
            added, removed = outcome.value
            flash(_("%(a)d households assigned, %(r)d removed.", a=added, r=removed), "success")
            return redirect(url_for("register.contact_households", user_id=user.id))
        status = 400
    village = scope.get_scoped(Area, binding.village_id) if binding else None
    page = render_template(
        "register/contact_households.html",
        contact=user,
        village=village,
        households=accounts.village_households(binding.village_id) if binding else [],
        assigned=accounts.assigned_household_ids(user.id),
    )
    return page, status


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


@bp.get("/import/<token>/progress")
@requires("register.import", status=404)
def import_progress(token: str) -> Any:
    """Rows checked / written so far for the uploader's own sheet (polled by the page)."""
    _need(register_rules.can_import)
    found = excel.read_progress(token)
    if found is None:
        abort(404)
    return jsonify(found), 200, {"Cache-Control": "no-store"}


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
    # the preview checks every row; the later steps reuse its result (duplicates against
    # the register are checked again)
    if stage == "preview":
        result = excel.validate(token, mapping, town_id)
        excel.keep_checked(token, mapping, town_id, result)
    else:
        result = excel.checked(token, mapping, town_id)
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
