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
from sqlalchemy.orm import selectinload

from portal import listing
from portal.kernel import uow
from portal.kernel.downloads import XLSX
from portal.kernel.grants import requires
from portal.kernel.labels import labeller
from portal.kernel.rules import RuleError
from portal.register import audit_actions as vocabulary
from portal.register import excel, operations, pii, queries
from portal.register import rules as register_rules
from portal.register.models import (
    Category,
    ExitReason,
    Household,
    HouseholdStatus,
    Person,
)
from portal.register.rules import today
from portal.tenancy import scope
from portal.ui import NavItem, register_nav
from portal.webhelpers import need

bp = Blueprint("register", __name__, url_prefix="/t/<slug>/register", template_folder="templates")

register_nav(
    NavItem(
        _l("Register"), "register.index", "register.read", order=30, when=register_rules.can_read
    )
)

# The labels of the register's codes are its audit vocabulary's (one translation of each).
CATEGORY_LABELS = vocabulary.CATEGORY_LABELS
STATUS_LABELS = vocabulary.STATUS_LABELS
EXIT_LABELS = vocabulary.EXIT_LABELS
RELATIONSHIP_LABELS = vocabulary.RELATIONSHIP_LABELS
KIND_LABELS = vocabulary.REQUEST_KIND_LABELS
REQUEST_STATUS_LABELS = vocabulary.REQUEST_STATUS_LABELS
CHANGE_LABELS = vocabulary.CHANGE_LABELS
AGE_BAND_LABELS = vocabulary.AGE_BAND_LABELS


#: The labels the export needs, by the name `excel.export_households` asks for.
EXPORT_LABELS = {
    "category": labeller(CATEGORY_LABELS),
    "status": labeller(STATUS_LABELS),
    "exit": labeller(EXIT_LABELS),
    "relationship": labeller(RELATIONSHIP_LABELS),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "category_label": EXPORT_LABELS["category"],
        "household_status_label": EXPORT_LABELS["status"],
        "exit_label": EXPORT_LABELS["exit"],
        "relationship_label": EXPORT_LABELS["relationship"],
        "request_kind_label": labeller(KIND_LABELS),
        "request_status_label": labeller(REQUEST_STATUS_LABELS),
        "change_label": labeller(CHANGE_LABELS),
        "mask_id": pii.mask_id,
        "mask_phone": pii.mask_phone,
        "register_rules": register_rules,
    }


def _fail(e: RuleError) -> None:
    """The rule's message for the next page; the request's unit of work commits nothing
    of a rolled-back attempt (the view answers a redirect or the form's error status)."""
    flash(f"{e.field}: {e.message}" if e.field else str(e.message), "error")


def attempt(action: Any) -> uow.Outcome:
    outcome = uow.attempt(action)
    if outcome.error is not None:
        _fail(outcome.error)
    return outcome


def scoped_or_404(model: Any, ident: Any) -> Any:
    """A register record the user's scope holds; out of scope answers 404 like missing."""
    found = scope.get_scoped(model, ident)
    if found is None:
        abort(404)
    return found


def household_or_404(household_id: Any) -> Household:
    return scoped_or_404(Household, household_id)


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
    need(register_rules.can_read)
    if refused := _id_in_url():
        return refused
    filters = queries.Filters.from_args(request.args)
    on = today()
    by_category_status = queries.category_status_counts()
    counts = queries.counts(by_category_status)
    lst = listing.Listing.from_request(
        "register.index", HOUSEHOLD_COLUMNS, keep=filters.as_dict(), title=_("Register")
    )
    rows, total = lst.fetch(
        queries.household_select(filters, on),
        tiebreak=(Household.id,),
        total=queries.total_from_counts(filters, by_category_status),
    )
    return render_template(
        "register/index.html",
        rows=rows,
        total=total,
        listing=lst,
        filters=filters,
        areas=queries.area_choices(),
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
    need(register_rules.can_read)
    filters = queries.Filters.from_args(request.form).with_search(request.form.get("q", ""))
    return redirect(url_for("register.index", **filters.as_dict()))


@bp.get("/export.xlsx")
@requires("register.export", status=404)
def export() -> Any:
    """Masked always; the export is an audit event with its filters and row count."""
    need(register_rules.can_export)
    if refused := _id_in_url():
        return refused
    filters, rows, on = _export_rows(request.args)
    data = excel.export_households(rows, on, EXPORT_LABELS)
    operations.record_export("xlsx", len(rows), filters.as_dict())
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX,
        as_attachment=True,
        download_name="register.xlsx",
    )


@bp.post("/export-full.xlsx")
@requires("register.export_full", status=404)
def export_full() -> Any:
    """Unmasked numbers, for the eligibility department only, with a reason; audited."""
    need(register_rules.can_export_full)
    filters, rows, on = _export_rows(request.form)
    reason = request.form.get("reason", "")
    outcome = attempt(
        lambda: operations.record_export("xlsx", len(rows), filters.as_dict(), reason)
    )
    if not outcome.ok:
        return redirect(url_for("register.index", **filters.as_dict()))
    data = excel.export_households(rows, on, EXPORT_LABELS, full=True)
    response = send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="register-full.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


#: The most households one register export holds (a district's whole register).
EXPORT_MAX = 50_000


def _export_rows(args: Any) -> tuple[queries.Filters, list[Household], Any]:
    """The list page's own select (its filters, and the list kit's order), every row up to
    `EXPORT_MAX`, members loaded in one more statement; the areas go into the session so
    the rows' town and village names need no query."""
    filters, on = queries.Filters.from_args(args), today()
    lst = listing.Listing.from_request("register.index", HOUSEHOLD_COLUMNS, keep=filters.as_dict())
    stmt = lst.ordered(queries.household_select(filters, on), tiebreak=(Household.id,))
    rows = listing.scalars(stmt.options(selectinload(Household.persons)), EXPORT_MAX, 0)
    queries.areas()
    return filters, rows, on


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
    need(register_rules.can_read)
    return _household_page(household_or_404(household_id))


@bp.post("/persons/<person_id>/reveal")
@requires("register.reveal", status=404)
def reveal(person_id: str) -> Any:
    """查看完整信息: the numbers in this response only (never stored, never cached)."""
    need(register_rules.can_reveal)
    person = scoped_or_404(Person, person_id)
    h = household_or_404(person.household_id)
    reason = request.form.get("reason", "")
    outcome = attempt(lambda: operations.reveal(current_user, person, reason))
    if not outcome.ok:
        return redirect(url_for("register.household", household_id=h.id))
    page = _household_page(h, {"person_id": person.id, **outcome.value})
    return page, 200, {"Cache-Control": "no-store"}


def init_app(app: Any) -> None:
    pii.init_app(app)


# The proposal, queue and areas pages, the accounts pages and the import add their routes
# to `bp` (imported last: they use the helpers above).
from portal.register import views_accounts, views_import, views_requests  # noqa: E402, F401
