"""Care pages under /t/<slug>/care: the coverage dashboard with drill-down, the contact
roster (联系人名册) and its Excel export, a household's care tab and the visit form a
village contact uses on a phone. Thin: rules in `operations`, reads in `queries`; which
households a user sees is the scoping hook's business (out of scope: 404).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.care import accounts as care_accounts
from portal.care import excel, operations, queries, rules
from portal.care.models import Checkup, VisitKind
from portal.duties.storage import Upload
from portal.extensions import db
from portal.kernel import downloads, uow
from portal.kernel.grants import can, requires
from portal.policy.care_format import CARE_FESTIVALS, CONTACT_ROLES
from portal.register import pii
from portal.register.models import Household
from portal.tenancy import scope
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav
from portal.webhelpers import need

bp = Blueprint("care", __name__, url_prefix="/t/<slug>/care", template_folder="templates")


def _household_nav(label: Any, endpoint: str, grant: str, order: int) -> None:
    """A menu item over households' care: shown to who may use `grant` here (among
    department officers only the eligibility department's, `rules.can_use`)."""
    when = lambda u: rules.can_use(u, grant)  # noqa: E731
    register_nav(NavItem(label, endpoint, grant, order=order, when=when))


_household_nav(_l("Care coverage"), "care.dashboard", "care.dashboard", 32)
register_nav(NavItem(_l("My households"), "care.mine", "care.visit", order=31))
register_nav(NavItem(_l("Contact persons"), "care.contacts", "care.contacts", order=33))
register_nav(NavItem(_l("Village-contact accounts"), "care.accounts", "care.contacts", order=35))
_household_nav(_l("Contact roster"), "care.roster", "care.export", 34)

# The town officer's home: their town's care figures (the scoping hook narrows them).
register_home_panel(
    HomePanel(
        "care/_town_panel.html",
        "care.contacts",
        lambda: {"care_cov": queries.coverage_cached()},
        order=15,
    )
)

VISIT_KIND_LABELS = {
    VisitKind.home: _l("Home visit"),
    VisitKind.phone: _l("Phone call"),
    VisitKind.festival: _l("Festival visit"),
    VisitKind.hospital: _l("Hospital visit"),
    VisitKind.emotional: _l("Emotional support"),
    VisitKind.doctor: _l("Family-doctor contact"),
    VisitKind.other: _l("Other"),
}
FIGURE_LABELS = {
    "contact_missing": _l("Short of contact persons"),
    "no_contact_quarter": _l("No contact this quarter"),
    "festival_overdue": _l("Festival visit overdue"),
    "doctor_overdue": _l("Doctor contact overdue"),
}


def _zh_or_en(table: dict, code: str) -> str:
    from flask_babel import get_locale

    pair = table.get(code)
    if not pair:
        return code or ""
    return pair[1] if str(get_locale()).startswith("en") else pair[0]


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "visit_kind_label": lambda v: str(VISIT_KIND_LABELS.get(v, v)),
        "festival_label": lambda c: _zh_or_en(CARE_FESTIVALS, c),
        "contact_role_label": lambda c: _zh_or_en(CONTACT_ROLES, c),
        "figure_label": lambda f: str(FIGURE_LABELS.get(f, f)),
        "care_can": lambda grant: can(current_user, grant),
    }


def _need(grant: str) -> None:
    """Out of care (an officer of a department other than eligibility): 404."""
    need(lambda user: rules.can_use(user, grant))


def _household_or_404(household_id: Any) -> Household:
    household = scope.get_scoped(Household, household_id)
    if household is None:
        abort(404)
    return household


def _area_arg() -> uuid.UUID | None:
    raw = request.args.get("area", "")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


# -- the lead's (and town officer's) coverage dashboard ---------------------------------


@bp.get("/")
@requires("care.dashboard", status=404)
def dashboard() -> Any:
    _need("care.dashboard")
    cov = queries.coverage_cached()
    towns = sorted(cov.towns.items(), key=lambda kv: cov.names.get(kv[0], ""))
    chart = {
        "towns": [cov.names.get(t, "") for t, _f in towns],
        "series": {
            key: [f.rates()[key] or 0 for _t, f in towns]
            for key in ("contact", "doctor", "festival", "checkup")
        },
        "labels": {
            "contact": _("Contact coverage"),
            "doctor": _("Doctor-contract coverage"),
            "festival": _("Festival-visit completion"),
            "checkup": _("Check-up completion"),
        },
    }
    villages = {
        t: sorted(
            ((v, f) for v, f in cov.villages.items() if cov.town_of.get(v) == t),
            key=lambda vf: cov.names.get(vf[0], ""),
        )
        for t, _f in towns
    }
    # the drill-down's address built once: per-link `url_for` was a third of the page's
    # rendering (three links per town and village row)
    return render_template(
        "care/dashboard.html",
        cov=cov,
        towns=towns,
        villages=villages,
        chart=chart,
        drill_url=url_for("care.drill"),
    )


@bp.get("/households")
@requires("care.dashboard", status=404)
def drill() -> Any:
    _need("care.dashboard")
    figure = request.args.get("figure", "contact_missing")
    if figure not in FIGURE_LABELS:
        abort(404)
    area = _area_arg()
    lst = listing.Listing.from_request(
        "care.drill",
        DRILL_COLUMNS,
        keep={"figure": figure, "area": area},
        title=FIGURE_LABELS[figure],
        default_size=50,
    )
    stmt = queries.households_select(figure, area_id=area)
    return lst.answer(
        "care/drill.html",
        stmt,
        figure=figure,
        area=area,
        area_name=queries.area_name(area) if area else "",
    )


# The households behind a figure, as the drill-down's Excel export shows them.
DRILL_COLUMNS = [
    listing.Column("number", _l("Household number"), lambda h: h.number),
    listing.Column("head", _l("Head of household"), lambda h: h.head_name),
    listing.Column("town", _l("Town"), lambda h: h.town.name),
    listing.Column("village", _l("Village"), lambda h: h.village.name),
]


# -- the roster (联系人名册) ---------------------------------------------------------------


@bp.get("/roster")
@requires("care.read", status=404)
def roster() -> Any:
    _need("care.read")
    try:
        page = max(1, min(10_000, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    rows = queries.roster_rows(limit=101, offset=(page - 1) * 100)
    policy = rules.current_policy()
    return render_template(
        "care/roster.html",
        rows=rows[:100],
        more=len(rows) > 100,
        total=queries.roster_count(),
        page=page,
        policy=policy,
        mask_phone=pii.mask_phone,
    )


@bp.get("/roster.xlsx")
@requires("care.export", status=404)
def roster_export() -> Any:
    _need("care.export")
    rows = queries.roster_rows()
    data = excel.roster_workbook(rows, lambda c: _zh_or_en(CONTACT_ROLES, c))
    operations.record_roster_export(len(rows))
    return send_file(
        io.BytesIO(data),
        mimetype=downloads.XLSX,
        as_attachment=True,
        download_name="contact-roster.xlsx",
    )


# -- a village contact's households, a household's care tab, the visit form ---------------


@bp.get("/mine")
@requires("care.visit", status=404)
def mine() -> Any:
    return render_template("care/mine.html", rows=queries.my_households())


def _household_page(
    h: Household, form: Any = None, errors: dict | None = None, open_form: str = "visit"
) -> str:
    """The care tab; `open_form` names the form whose input and errors are shown."""
    today = rules.today()
    care = queries.household_care(h.id)
    if form is None:
        open_form, form = _edit_values(care)
    return render_template(
        "care/household.html",
        h=h,
        care=care,
        due=queries.household_due(h, today),
        policy=rules.current_policy(today),
        today=today,
        kinds=list(VisitKind),
        festivals=CARE_FESTIVALS,
        default_festival=queries.nearest_festival(today),
        form=form,
        errors=errors or {},
        open_form=open_form,
        members=[p for p in h.persons if p.alive],
        member_names={p.id: p.name for p in h.persons},
        can_visit=can(current_user, "care.visit"),
        can_health=can(current_user, "care.health"),
        can_manage=(manage := can(current_user, "care.contacts")),
        town_contacts=queries.roster(h.town_id) if manage else [],
        mask_phone=pii.mask_phone,
    )


def _edit_values(care: dict) -> tuple[str, dict]:
    """A contract or check-up of this household opened for editing (`?contract=<person>`,
    `?checkup=<id>`): the form starts from its recorded values."""
    if person := request.args.get("contract"):
        for k in care["contracts"]:
            if str(k.person_id) == person:
                return "contract", {
                    "person_id": person,
                    "doctor": k.doctor,
                    "institution": k.institution,
                    "signed_on": k.signed_on.isoformat() if k.signed_on else "",
                    "renewed_on": k.renewed_on.isoformat() if k.renewed_on else "",
                    "declined": "1" if k.declined else "",
                    "declined_reason": k.declined_reason,
                }
    if checkup := request.args.get("checkup"):
        for c in care["checkups"]:
            if str(c.id) == checkup:
                return "checkup", {
                    "checkup_id": checkup,
                    "person_id": str(c.person_id),
                    "done_on": c.done_on.isoformat(),
                    "institution": c.institution,
                    "note": c.note,
                }
    return "visit", {}


def _household_post(h: Household, open_form: str, run: Any, done: str) -> Any:
    """One care form posted on a household's tab: saved (back to the tab, flashed) or
    refused (the tab again, the input kept and the message beside its field, 400)."""
    outcome = uow.attempt(run)
    if outcome.ok:
        flash(done, "success")
        return redirect(url_for("care.household", household_id=h.id))
    e = outcome.error
    errors = {e.field or "_": str(e.message)}
    return _household_page(h, request.form, errors, open_form), 400


@bp.get("/households/<household_id>")
@requires("care.read", status=404)
def household(household_id: str) -> Any:
    _need("care.read")
    return _household_page(_household_or_404(household_id))


def _fields(*names: str) -> dict[str, str]:
    """The posted text fields an operation takes by the same names ("" when missing)."""
    return {name: request.form.get(name, "") for name in names}


@bp.post("/households/<household_id>/visits")
@requires("care.visit", status=404)
def record_visit(household_id: str) -> Any:
    h = _household_or_404(household_id)
    form = request.form
    photos = [
        Upload(f.filename or "photo", f.read())
        for f in request.files.getlist("photos")
        if f and f.filename
    ]
    return _household_post(
        h,
        "visit",
        lambda: operations.record_visit(
            current_user,
            h,
            festival=form.get("festival", "") if form.get("kind") == "festival" else "",
            follow_up=form.get("follow_up") == "1",
            photos=photos,
            **_fields("visited_on", "kind", "companions", "findings", "follow_up_note"),
        ),
        _("The visit was recorded."),
    )


def _health_post(household_id: str, open_form: str, names: tuple, run: Any, done: str) -> Any:
    """A contract or check-up form (the eligibility department and town officers)."""
    _need("care.health")
    h = _household_or_404(household_id)
    fields = _fields(*names)
    return _household_post(h, open_form, lambda: run(h, fields), done)


@bp.post("/households/<household_id>/contracts")
@requires("care.health", status=404)
def record_contract(household_id: str) -> Any:
    """Sign, renew or record the refusal of a member's family-doctor contract."""
    declined = request.form.get("declined") == "1"
    return _health_post(
        household_id,
        "contract",
        ("person_id", "doctor", "institution", "signed_on", "renewed_on", "declined_reason"),
        lambda h, f: operations.record_contract(current_user, h.id, declined=declined, **f),
        _("The family-doctor contract was saved."),
    )


@bp.post("/households/<household_id>/checkups")
@requires("care.health", status=404)
def record_checkup(household_id: str) -> Any:
    """Record a member's check-up, or correct one (`checkup_id`)."""
    checkup_id = request.form.get("checkup_id") or None
    return _health_post(
        household_id,
        "checkup",
        ("person_id", "done_on", "institution", "note"),
        lambda h, f: operations.record_checkup(current_user, h.id, checkup_id=checkup_id, **f),
        _("The check-up was saved."),
    )


def _checkup_or_404(h: Household, checkup_id: str) -> Checkup:
    checkup = scope.get_scoped(Checkup, checkup_id)
    if checkup is None or checkup.household_id != h.id:
        abort(404)
    return checkup


@bp.route("/households/<household_id>/checkups/<checkup_id>/delete", methods=["GET", "POST"])
@requires("care.health", status=404)
def delete_checkup(household_id: str, checkup_id: str) -> Any:
    """Correct-by-delete: GET asks for confirmation and the reason, POST deletes (a
    missing reason: the same page again, 400, nothing deleted)."""
    _need("care.health")
    h = _household_or_404(household_id)
    checkup = _checkup_or_404(h, checkup_id)
    error = ""
    if request.method == "POST":
        reason = request.form.get("reason", "")
        outcome = uow.attempt(
            lambda: operations.delete_checkup(current_user, h.id, checkup.id, reason)
        )
        if outcome.ok:
            flash(_("The check-up was deleted; the reason is in the audit trail."), "success")
            return redirect(url_for("care.household", household_id=h.id) + "#checkups")
        if outcome.error is not None and outcome.error.status == 404:
            abort(404)
        error = str(outcome.error.message) if outcome.error else ""
    member = next((p.name for p in h.persons if p.id == checkup.person_id), "")
    page = render_template(
        "care/checkup_delete.html",
        h=h,
        checkup=checkup,
        member=member,
        reason=request.form.get("reason", ""),
        error=error,
    )
    return page, 400 if error else 200


# -- the town officer's contact persons: add, assign, reassign, deactivate ----------------


def _back(default: str) -> Any:
    return redirect(request.form.get("next") or default)


def _contact_rows(stmt: Any, limit: int | None, offset: int) -> list[Any]:
    return list(db.session.execute(stmt.offset(offset).limit(limit)).all())


# The contact persons as their Excel export shows them: phones masked, Chinese headers.
CONTACT_COLUMNS = [
    listing.Column("name", _l("Name"), lambda r: r[0].name),
    listing.Column("role", _l("Contact role"), lambda r: _zh_or_en(CONTACT_ROLES, r[0].role)),
    listing.Column("unit", _l("Unit"), lambda r: f"{r[0].unit} {r[0].position}".strip()),
    listing.Column("phone", _l("Phone"), lambda r: pii.mask_phone(r[0].phone)),
    listing.Column("households", _l("Households"), lambda r: r[1]),
]


@bp.route("/contacts", methods=["GET", "POST"])
@requires("care.contacts", status=404)
def contacts() -> Any:
    form: Any = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form
        outcome = uow.attempt(
            lambda: operations.add_contact(
                current_user,
                name=form.get("name", ""),
                role=form.get("role", ""),
                unit=form.get("unit", ""),
                position=form.get("position", ""),
                phone=form.get("phone", ""),
            )
        )
        if outcome.ok:
            flash(_("The contact person was added."), "success")
            return redirect(url_for("care.contacts"))
        e = outcome.error
        errors = {e.field or "_": str(e.message)}
        status = 400
    if request.method == "GET" and request.args.get("export") == "xlsx":
        _need("care.export")
        lst = listing.Listing.from_request(
            "care.contacts", CONTACT_COLUMNS, title=_("Contact persons")
        )
        return lst.export(queries.roster_select(), _contact_rows)
    rows = queries.roster()
    page = render_template(
        "care/contacts.html",
        rows=rows,
        total=len(rows),
        roles=CONTACT_ROLES,
        form=form,
        errors=errors,
        mask_phone=pii.mask_phone,
    )
    return page, status


@bp.post("/contacts/<contact_id>/deactivate")
@requires("care.contacts", status=404)
def deactivate_contact(contact_id: str) -> Any:
    outcome = uow.attempt(
        lambda: operations.deactivate_contact(
            current_user, contact_id, request.form.get("reason", "")
        )
    )
    if outcome.ok:
        flash(_("The contact person was deactivated; their households need another."), "success")
    elif outcome.error is not None:
        if outcome.error.status == 404:
            abort(404)
        flash(str(outcome.error.message), "error")
    return redirect(url_for("care.contacts"))


@bp.post("/households/<household_id>/assign")
@requires("care.contacts", status=404)
def assign(household_id: str) -> Any:
    h = _household_or_404(household_id)
    outcome = uow.attempt(
        lambda: operations.assign(current_user, h.id, request.form.get("contact_id", ""))
    )
    if outcome.ok:
        flash(_("The contact person was assigned."), "success")
    elif outcome.error is not None:
        flash(str(outcome.error.message), "error")
    return redirect(url_for("care.household", household_id=h.id))


@bp.post("/assignments/<assignment_id>/reassign")
@requires("care.contacts", status=404)
def reassign(assignment_id: str) -> Any:
    outcome = uow.attempt(
        lambda: operations.reassign(
            current_user,
            assignment_id,
            request.form.get("contact_id", ""),
            request.form.get("reason", ""),
        )
    )
    if outcome.ok:
        flash(
            _("The household has a new contact person; the earlier one stays in its history."),
            "success",
        )
        return redirect(url_for("care.household", household_id=outcome.value.household_id))
    if outcome.error is not None and outcome.error.status == 404 and outcome.error.field is None:
        abort(404)
    flash(str(outcome.error.message) if outcome.error else "", "error")
    return redirect(request.referrer or url_for("care.contacts"))


# -- the town officer's village-contact accounts (the register's account operations) -----


def _accounts_page(status: int = 200, error: Any = None, created: Any = None, reset: Any = None):
    rows, villages, unlinked = care_accounts.accounts_page(current_user)
    page = render_template(
        "care/accounts.html",
        rows=rows,
        villages=villages,
        unlinked=unlinked,
        form=request.form if error is not None else {},
        error=error,
        created=created,
        reset=reset,
    )
    # a temporary password is shown once: never kept by a cache
    headers = {"Cache-Control": "no-store"} if created or reset else {}
    return page, status, headers


@bp.route("/accounts", methods=["GET", "POST"])
@requires("care.contacts", status=404)
def accounts() -> Any:
    """The village-contact accounts of the officer's town; POST creates one (its
    temporary password shown once), linked to a contact person when one is chosen."""
    if request.method == "GET":
        return _accounts_page()
    form = request.form
    outcome = uow.attempt(
        lambda: care_accounts.create_account(
            current_user,
            g.tenant,
            username=form.get("username", ""),
            display_name=form.get("display_name", ""),
            village_id=form.get("village_id"),
            contact_id=form.get("contact_id") or None,
        )
    )
    if outcome.ok:
        return _accounts_page(created=outcome.value)
    if outcome.status == 404:
        abort(404)
    return _accounts_page(400, outcome.error)


@bp.post("/accounts/<user_id>/active")
@requires("care.contacts", status=404)
def account_active(user_id: str) -> Any:
    active = request.form.get("active") == "1"
    outcome = uow.attempt(lambda: care_accounts.set_active(current_user, user_id, active))
    if outcome.error is not None:
        if outcome.status == 404:
            abort(404)
        return _accounts_page(400, outcome.error)
    if outcome.value is False:
        flash(_("Nothing changed."), "success")
    else:
        flash(
            _("The account was reactivated.") if active else _("The account was deactivated."),
            "success",
        )
    return redirect(url_for("care.accounts"))


@bp.route("/accounts/<user_id>/reset", methods=["GET", "POST"])
@requires("care.contacts", status=404)
def account_reset(user_id: str) -> Any:
    """GET asks for confirmation; POST with `confirm` gives a new temporary password
    (shown once; the old one and every open session stop working)."""
    try:
        user = care_accounts.account(current_user, user_id)
    except rules.RuleError:
        abort(404)
    error = ""
    if request.method == "POST":
        if request.form.get("confirm") != "1":
            error = _("Tick the box to confirm the reset.")
        else:
            outcome = uow.attempt(lambda: care_accounts.reset_password(current_user, user.id))
            if outcome.ok:
                _user, password = outcome.value
                return _accounts_page(reset={"user": _user, "password": password})
            if outcome.status == 404:
                abort(404)
            error = str(outcome.error.message) if outcome.error else ""
    page = render_template("care/account_reset.html", user=user, error=error)
    return page, 400 if error else 200
