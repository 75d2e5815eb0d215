"""Register accounts: town officers' towns (the lead) and village-contact accounts (the
lead, and town officers for their own town's villages).

Routes on the register blueprint (`portal.register.views.bp`)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.kernel import uow
from portal.kernel.grants import requires
from portal.kernel.rules import RuleError
from portal.register import accounts, queries
from portal.register import rules as register_rules
from portal.register.models import Area
from portal.register.views import attempt, bp
from portal.tenancy import scope

# -- accounts: town officers' towns, village contacts ----------------------------------


def _accounts_page(status: int = 200, error: RuleError | None = None, created: Any = None) -> Any:
    all_towns, villages = queries.areas()
    towns = all_towns
    if current_user.role == "town_officer":
        towns = [t for t in towns if t.id == accounts.actor_town_id(current_user)]
    officers = accounts.town_officers() if register_rules.can_manage_officers(current_user) else []
    page = render_template(
        "register/accounts.html",
        towns=towns,
        villages=villages,
        all_towns={t.id: t for t in all_towns},
        officers=officers,
        contacts=accounts.contacts(current_user),
        form=request.form if error is not None else {},
        error=error,
        created=created,
    )
    headers = {"Cache-Control": "no-store"} if created is not None else {}
    return page, status, headers


def _attempt_or_page(action: Any) -> tuple[Any, Any]:
    """Run one account change: (its value, None), or (None, the page with the error by its
    field) — the request's unit of work rolls a failed attempt back; 404 stays 404."""
    outcome = uow.attempt(action)
    if outcome.error is None:
        return outcome.value, None
    if outcome.status == 404:
        abort(404)
    return None, _accounts_page(400, outcome.error)


def _accounts_step(action: Any, message: str) -> Any:
    """One account change: a redirect with its message, or the page with the error."""
    value, error_page = _attempt_or_page(action)
    if error_page is not None:
        return error_page
    flash(message if value is not False else _("Nothing changed."), "success")
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
    form = request.form
    created, error_page = _attempt_or_page(
        lambda: accounts.create_contact(
            current_user,
            g.tenant,
            form.get("username", ""),
            form.get("display_name", ""),
            form.get("village_id"),
        )
    )
    return error_page if error_page is not None else _accounts_page(created=created)


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
        outcome = attempt(
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
