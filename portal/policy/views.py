"""District policy pages under /t/<slug>/policy: read (leads, officers, auditors), edit (leads).

Thin: the rules are in `portal.policy.services`; every change is audited by the ORM
capture in the same transaction, which the request commits once (`portal.kernel.uow`).
A change of responsibilities is announced with `signals.policy_changed`; the duties
domain (above policy) answers with what it did, which the lead is shown.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.api import get_or_404
from portal.extensions import db
from portal.kernel import clock, periods, signals
from portal.kernel.grants import can, requires
from portal.kernel.uow import attempt
from portal.policy import labels, services
from portal.policy.models import BenefitStandard, Measure, PolicyVersion
from portal.tenancy import scope
from portal.tenancy import services as tenancy
from portal.tenancy.models import Department, Tenant
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav
from portal.webhelpers import found_or_404

bp = Blueprint("policy", __name__, url_prefix="/t/<slug>/policy", template_folder="templates")

register_nav(NavItem(_l("Policy"), "policy.index", "policy.read", order=20))


#: The fields a policy file may mark `inferred:` (docs/policy-format.md), by their names
#: on this page: the reason is shown in the writer's words, the field never as a key.
INFERRED_LABELS = {
    "effective_from": _l("In force from"),
    "lead_department": _l("Lead of the document"),
    "lead": _l("Lead"),
    "office_department": _l("Office department"),
}


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _tenant() -> Tenant:
    return found_or_404(db.session.get(Tenant, scope.current().tenant_id))


def announce_change(version: PolicyVersion | None) -> list[Any]:
    """Send `policy_changed` for the district in scope; the receivers' answers.

    Runs in the request's unit of work: what the receivers write is committed with the
    policy change, or not at all.
    """
    return signals.responses(
        signals.policy_changed.send(_tenant(), version=version, actor=current_user)
    )


def _flash_results(results: list[Any]) -> None:
    """Tell the lead what the receivers did (duties: created, updated, removed)."""
    for r in results:
        if not all(hasattr(r, a) for a in ("created", "updated", "removed", "period")):
            continue
        if r.created or r.updated or r.removed:
            flash(
                _(
                    "Duties of %(period)s follow the change: %(created)s created, "
                    "%(updated)s updated, %(removed)s removed.",
                    period=getattr(r, "period_label", None) or periods.label(r.period),
                    created=r.created,
                    updated=r.updated,
                    removed=r.removed,
                ),
                "info",
            )


@bp.get("/")
@requires("policy.read", status=404)
def index() -> Any:
    latest = services.latest_version()
    version = services.load_version(latest.id) if latest else None
    today = clock.today()
    current = services.current_version(today)
    lead = None
    if version is not None and version.lead_department_key:
        lead = db.session.execute(
            sa.select(Department).where(Department.key == version.lead_department_key)
        ).scalar_one_or_none()
    return render_template(
        "policy/index.html",
        version=version,
        lead_department=lead,
        is_current=current is not None and version is not None and current.id == version.id,
        warning=services.expiry_warning(today),
        today=today,
        can_edit=can(current_user, "district.configure"),
        labels=labels,
        inferred_labels=INFERRED_LABELS,
    )


@bp.route("/measures/<measure_id>/edit", methods=["GET", "POST"])
@requires("district.configure", status=404)
def edit_measure(measure_id: str) -> Any:
    measure = get_or_404(Measure, measure_id)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {
        "title": measure.title,
        "text": measure.text,
        "category": measure.category,
        "lead": [str(r.department_id) for r in measure.responsibilities if r.role == "lead"],
        "cooperating": [
            str(r.department_id) for r in measure.responsibilities if r.role == "cooperating"
        ],
        "row_version": measure.row_version,
    }
    status = 200
    if request.method == "POST":
        form = {
            "title": request.form.get("title", ""),
            "text": request.form.get("text", ""),
            "category": request.form.get("category", ""),
            "lead": request.form.getlist("lead"),
            "cooperating": request.form.getlist("cooperating"),
            "row_version": request.form.get("row_version", ""),
        }
        try:
            row_version = int(form["row_version"])
        except ValueError:
            row_version = -1

        def change() -> list[Any]:
            services.update_measure(
                measure,
                title=form["title"],
                text=form["text"],
                category=form["category"],
                lead=form["lead"],
                cooperating=form["cooperating"],
                row_version=row_version,
            )
            # The current half-year's duties follow the responsibilities at once (signed-off
            # duties are never touched): same transaction, so both land or neither.
            return announce_change(measure.version)

        outcome = attempt(change)
        if outcome.ok:
            flash(_("Measure %(number)s saved.", number=measure.number), "success")
            _flash_results(outcome.value or [])
            return redirect(url_for("policy.index", _anchor=f"m-{measure.id}"))
        error = outcome.error
        status = outcome.status
        if isinstance(error, services.PolicyEditError):
            errors = error.errors
        else:
            errors = {"form": str(error.message)}  # type: ignore[union-attr]
            if status == 409:
                measure = get_or_404(Measure, measure_id)
                form["row_version"] = measure.row_version
    return (
        render_template(
            "policy/edit_measure.html",
            measure=measure,
            form=form,
            errors=errors,
            departments=tenancy.departments_in_order(),
            categories=labels.category_choices(),
        ),
        status,
    )


@bp.route("/benefits/<benefit_id>/values/new", methods=["GET", "POST"])
@requires("district.configure", status=404)
def add_value(benefit_id: str) -> Any:
    benefit = get_or_404(BenefitStandard, benefit_id)
    errors: dict[str, str] = {}
    form = {"amount": "", "effective_from": "", "source": ""}
    status = 200
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in form}
        outcome = attempt(
            lambda: services.add_benefit_value(
                benefit,
                amount=form["amount"],
                effective_from=form["effective_from"],
                source=form["source"],
            )
        )
        if outcome.ok:
            flash(
                _(
                    "New amount for %(name)s from %(date)s recorded; earlier amounts are kept.",
                    name=benefit.name,
                    date=form["effective_from"],
                ),
                "success",
            )
            return redirect(url_for("policy.index", _anchor=f"b-{benefit.id}"))
        error = outcome.error
        errors = getattr(error, "errors", None) or {"form": str(error.message)}  # type: ignore[union-attr]
        status = outcome.status
        benefit = get_or_404(BenefitStandard, benefit_id)
    return (
        render_template(
            "policy/add_value.html",
            benefit=benefit,
            form=form,
            errors=errors,
            labels=labels,
        ),
        status,
    )


def _version_or_404(version_id: str) -> PolicyVersion:
    ident = _uuid_or_404(version_id)
    return found_or_404(
        db.session.execute(
            sa.select(PolicyVersion).where(PolicyVersion.id == ident)
        ).scalar_one_or_none()
    )


@bp.post("/versions/<version_id>/adopt")
@requires("district.configure", status=404)
def adopt(version_id: str) -> Any:
    """The lead adopts a draft for comment: it creates duties from now on (audited)."""
    version = _version_or_404(version_id)

    def run() -> list[Any]:
        services.adopt_draft(current_user, version)
        return announce_change(version)

    outcome = attempt(run)
    if not outcome.ok:
        flash(str(outcome.error.message), "error")  # type: ignore[union-attr]
        return redirect(url_for("policy.index")), 303
    flash(_("The draft is adopted; it creates duties from now on."), "success")
    _flash_results(outcome.value or [])
    return redirect(url_for("policy.index"))


@bp.post("/versions/<version_id>/after-expiry")
@requires("district.configure", status=404)
def after_expiry(version_id: str) -> Any:
    """The lead decides whether the district keeps working to an expired policy (audited)."""
    version = _version_or_404(version_id)
    decision = request.form.get("decision", "")
    if decision not in ("continue", "stop"):
        abort(400)

    def run() -> list[Any]:
        services.decide_after_expiry(current_user, version, decision == "continue")
        return announce_change(version)

    outcome = attempt(run)
    if not outcome.ok:
        flash(str(outcome.error.message), "error")  # type: ignore[union-attr]
        return redirect(url_for("policy.index")), 303
    if decision == "continue":
        flash(
            _(
                "Recorded: the district keeps working to the expired policy until a new one is loaded."
            ),
            "success",
        )
    else:
        flash(
            _(
                "Recorded: the district does not work to the expired policy; it creates no more duties."
            ),
            "success",
        )
    _flash_results(outcome.value or [])
    return redirect(url_for("policy.index"))


def _expiry_context() -> dict[str, Any]:
    today = clock.today()
    return {"warning": services.expiry_warning(today), "today": today}


register_home_panel(
    HomePanel("policy/_expiry_panel.html", "district.configure", _expiry_context, order=5)
)
