"""Register pages for changes: a town officer's proposals (enrol, change, exit), the
confirmation queue and its decisions, and the district's towns and villages.

Routes on the register blueprint (`portal.register.views.bp`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.kernel import timefmt
from portal.kernel.grants import requires
from portal.register import decisions, excel, operations, proposals, queries
from portal.register import rules as register_rules
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ChangeRequest,
    Relationship,
    RequestStatus,
)
from portal.register.rules import RegisterError
from portal.register.views import attempt, bp, household_or_404, need, scoped_or_404
from portal.tenancy import scope

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
    need(register_rules.can_propose)
    town_id = operations.officer_town_id(current_user)
    towns, villages = queries.areas()
    status = 200
    if request.method == "POST":
        fields = ("village_id", "category", "level", "address", "registered_on", "evidence_note")
        data: dict[str, Any] = {k: request.form.get(k, "") for k in fields}
        data["members"] = _members_from_form(request.form)
        outcome = attempt(lambda: proposals.propose_enrol(current_user, data))
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
    need(register_rules.can_propose)
    h = household_or_404(household_id)
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
    if attempt(lambda: proposals.propose_change(current_user, h, data, version)).ok:
        flash(_("The change was proposed."), "success")
    return redirect(url_for("register.household", household_id=h.id))


@bp.post("/households/<household_id>/exit")
@requires("register.propose", status=404)
def propose_exit(household_id: str) -> Any:
    need(register_rules.can_propose)
    h = household_or_404(household_id)
    form = dict(request.form)
    if attempt(lambda: proposals.propose_exit(current_user, h, form, form.get("row_version"))).ok:
        flash(_("The exit was proposed."), "success")
    return redirect(url_for("register.household", household_id=h.id))


# -- confirmation queue ----------------------------------------------------------------


def _label(table: dict, value: Any) -> str:
    return str(table.get(value, getattr(value, "value", value) or ""))


def _request_columns() -> list[listing.Column]:
    """The queue's columns as its Excel export shows them (Chinese headers, labels)."""
    from portal.register.views import KIND_LABELS, REQUEST_STATUS_LABELS

    return [
        listing.Column("kind", _l("Request"), lambda r: _label(KIND_LABELS, r.kind)),
        listing.Column("household", _l("Household"), lambda r: r.summary),
        listing.Column("proposed_by", _l("Proposed by"), lambda r: r.proposed_by_name),
        listing.Column(
            "proposed", _l("Proposed"), lambda r: timefmt.format_datetime(r.proposed_at)
        ),
        listing.Column("status", _l("Status"), lambda r: _label(REQUEST_STATUS_LABELS, r.status)),
        listing.Column("reason", _l("Reason"), lambda r: r.reason),
        listing.Column("decided_by", _l("Decided by"), lambda r: r.decided_by_name),
        listing.Column("evidence", _l("Evidence"), lambda r: r.evidence_note),
    ]


@bp.get("/requests")
@requires("register.read", status=404)
def requests_queue() -> Any:
    need(register_rules.can_read)
    status = request.args.get("status", "pending")
    lst = listing.Listing.from_request(
        "register.requests_queue",
        _request_columns(),
        keep={"status": status},
        title=_("Change requests"),
    )
    stmt = queries.request_select(status)
    return lst.answer(
        "register/requests.html",
        stmt,
        status=status,
        statuses=list(RequestStatus),
        batches=queries.pending_batches() if register_rules.can_confirm(current_user) else [],
    )


@bp.post("/requests/<request_id>/decide")
@requires("register.confirm", status=404)
def decide(request_id: str) -> Any:
    need(register_rules.can_confirm)
    change = scoped_or_404(ChangeRequest, request_id)
    form = request.form

    def act() -> str:
        if form.get("decision") == "confirm":
            decisions.confirm(current_user, change, form.get("row_version"))
            return _("Confirmed.")
        if form.get("decision") == "return":
            reason = form.get("reason", "")
            decisions.return_request(current_user, change, reason, form.get("row_version"))
            return _("Returned to the proposer.")
        raise RegisterError(_l("Choose confirm or return."), "decision")

    outcome = attempt(act)
    if outcome.ok:
        flash(outcome.value, "success")
    return redirect(url_for("register.requests_queue"))


@bp.post("/batches/<batch>/confirm")
@requires("register.confirm", status=404)
def confirm_batch(batch: str) -> Any:
    need(register_rules.can_confirm)
    outcome = attempt(lambda: decisions.confirm_batch(current_user, batch[:40]))
    if outcome.ok:
        flash(_("%(n)d requests confirmed.", n=outcome.value), "success")
    return redirect(url_for("register.requests_queue"))


# -- areas -----------------------------------------------------------------------------


@bp.route("/areas", methods=["GET", "POST"])
@requires("register.read", status=404)
def areas() -> Any:
    need(register_rules.can_read)
    status = 200
    if request.method == "POST":
        need(register_rules.can_manage_areas)
        outcome = attempt(_save_areas)
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
