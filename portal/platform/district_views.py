"""District leads manage their own tenant's users and departments (/t/<slug>/users, …/departments).

Scope comes from the URL like every district page; the services re-enter the same
tenant scope, so a lead can never reach another district's accounts. Every change goes
through the accounts service (`portal.auth.operations`) or the department services
(`portal.tenancy.services`), under the request's one unit of work. Resetting a password
and (de)activating an account ask for the lead's password first, like the back office.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.auth import operations
from portal.auth.models import User
from portal.auth.roles import DISTRICT_ROLES
from portal.kernel import clock
from portal.kernel.grants import ROLE_LABELS, requires
from portal.kernel.labels import labeller
from portal.kernel.uow import attempt
from portal.platform.views import password_answer, set_account_active
from portal.tenancy import services as tenancy
from portal.tenancy.models import Department
from portal.ui import NavItem, register_nav
from portal.webhelpers import found_or_404

bp = Blueprint("district_admin", __name__, url_prefix="/t/<slug>", template_folder="templates")

register_nav(NavItem(_l("Users"), "district_admin.users", "district.configure", order=80))
register_nav(
    NavItem(_l("Departments"), "district_admin.departments", "district.configure", order=81)
)


def _state(u: Any) -> str:
    text = _("active") if u.active else _("deactivated")
    return text + (f" · {_('must change password')}" if u.must_change_password else "")


role_label = labeller(ROLE_LABELS)
USER_COLUMNS = [
    listing.Column("username", _l("Username"), lambda u: u.username, sort=User.username),
    listing.Column("name", _l("Name"), lambda u: u.display_name, sort=User.display_name),
    listing.Column("role", _l("Role"), lambda u: role_label(u.role), sort=User.role),
    listing.Column(
        "department",
        _l("Department"),
        lambda u: u.department.name if u.department else "—",
        sort=(Department.sort_order, Department.name),
    ),
    listing.Column("state", _l("State"), _state, sort=User.active),
    listing.Column(
        "last_sign_in",
        _l("Last sign-in"),
        lambda u: clock.local(u.last_login_at, g.tenant),
        sort=User.last_login_at,
    ),
]


@bp.get("/users")
@requires("district.configure")
def users() -> Any:
    q = listing.search_arg()
    role = request.args.get("role", "")
    if role not in {r.value for r in DISTRICT_ROLES}:
        role = ""
    lst = listing.Listing.from_request(
        "district_admin.users", USER_COLUMNS, keep={"q": q, "role": role}, title=_("Users")
    )
    stmt = operations.district_users_query(g.tenant, search=q, role=role)
    return lst.answer(
        "platform/district_users.html",
        stmt,
        tiebreak=(User.id,),
        q=q,
        role=role,
        roles=DISTRICT_ROLES,
        departments=tenancy.departments_in_order(),
    )


@bp.post("/users")
@requires("district.configure")
def create_user() -> Any:
    outcome = attempt(
        lambda: operations.create_user(
            current_user,
            tenant=g.tenant,
            username=request.form.get("username", ""),
            display_name=request.form.get("display_name", ""),
            role=request.form.get("role", ""),
            department_key=request.form.get("department") or None,
        )
    )
    return password_answer(outcome, url_for("district_admin.users"))


def _account_to_change(user_id: uuid.UUID) -> User:
    """The district's account of the URL (or 404), once the lead's password was confirmed
    recently (as in the back office); else the answer is the password confirmation."""
    from portal.auth.views import recently_authenticated

    user = found_or_404(operations.district_user(g.tenant, user_id))
    if not recently_authenticated():
        flash(_("Please confirm your password before changing accounts."), "info")
        abort(redirect(url_for("auth.reauth", next=url_for("district_admin.users"))))
    return user


@bp.post("/users/<uuid:user_id>/active")
@requires("district.configure")
def set_user_active(user_id: uuid.UUID) -> Any:
    user = _account_to_change(user_id)
    set_account_active(user, request.form.get("active") == "1", g.tenant)
    return redirect(url_for("district_admin.users"))


@bp.post("/users/<uuid:user_id>/reset")
@requires("district.configure")
def reset_user_password(user_id: uuid.UUID) -> Any:
    user = _account_to_change(user_id)
    outcome = attempt(lambda: operations.reset_password(current_user, user, tenant=g.tenant))
    return password_answer(outcome, url_for("district_admin.users"), user)


def _departments_page(form: dict, status: int = 200) -> Any:
    return render_template(
        "platform/district_departments.html",
        rows=tenancy.departments_in_order(include_inactive=True),
        kinds=tenancy.department_kinds(),
        form=form,
    ), status


@bp.get("/departments")
@requires("district.configure")
def departments() -> Any:
    return _departments_page({})


@bp.post("/departments")
@requires("district.configure")
def create_department() -> Any:
    form = {k: request.form.get(k, "").strip() for k in ("key", "kind", "name")}
    outcome = attempt(
        lambda: tenancy.create_department(g.tenant, form["key"], form["kind"], form["name"])
    )
    if outcome.error is not None:
        flash(str(outcome.error.message), "error")
        return _departments_page(form, 400)
    assert outcome.value is not None
    flash(_("The department %(name)s was added.", name=outcome.value.name), "success")
    return redirect(url_for("district_admin.departments"))


@bp.post("/departments/<uuid:department_id>/active")
@requires("district.configure")
def set_department_active(department_id: uuid.UUID) -> Any:
    active = request.form.get("active") == "1"
    outcome = attempt(lambda: tenancy.set_department_active(g.tenant, department_id, active))
    if outcome.error is not None or outcome.value is None:
        abort(404)
    name = outcome.value.name
    flash(
        _("%(name)s was reactivated.", name=name)
        if active
        else _("%(name)s was deactivated.", name=name),
        "success",
    )
    return redirect(url_for("district_admin.departments"))
