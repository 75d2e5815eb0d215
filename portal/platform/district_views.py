"""District leads manage their own tenant's users and departments (/t/<slug>/users, …/departments).

Scope comes from the URL like every district page; the services re-enter the same
tenant scope, so a lead can never reach another district's accounts.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth.models import Role
from portal.kernel.grants import requires
from portal.kernel.inputs import page_number
from portal.platform import services
from portal.platform.views import ACCOUNT_ERRORS, secret_page
from portal.ui import NavItem, register_nav

bp = Blueprint("district_admin", __name__, url_prefix="/t/<slug>", template_folder="templates")

register_nav(NavItem(_l("Users"), "district_admin.users", "district.configure", order=80))
register_nav(
    NavItem(_l("Departments"), "district_admin.departments", "district.configure", order=81)
)

PER_PAGE = 50
DISTRICT_ROLES = (Role.district_lead, Role.dept_officer, Role.auditor)


@bp.get("/users")
@requires("district.configure")
def users() -> Any:
    q = request.args.get("q", "").strip()[:80]
    try:
        page = page_number(request.args.get("page"))
    except ValueError:
        page = 1
    everyone = services.tenant_users(g.tenant)
    if q:
        needle = q.lower()
        everyone = [
            u
            for u in everyone
            if needle in u.username.lower()
            or needle in u.display_name.lower()
            or (u.department and needle in u.department.name.lower())
        ]
    total = len(everyone)
    rows = everyone[(page - 1) * PER_PAGE : page * PER_PAGE]
    return render_template(
        "platform/district_users.html",
        rows=rows,
        q=q,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        roles=DISTRICT_ROLES,
        departments=[d for d in services.departments(g.tenant) if d.active],
    )


@bp.post("/users")
@requires("district.configure")
def create_user() -> Any:
    role_arg = request.form.get("role", "")
    if role_arg not in {r.value for r in DISTRICT_ROLES}:
        flash(str(ACCOUNT_ERRORS["role"]), "error")
        return redirect(url_for("district_admin.users"))
    try:
        user, password = services.create_account(
            g.tenant,
            username=request.form.get("username", ""),
            display_name=request.form.get("display_name", ""),
            role=Role(role_arg),
            department_key=request.form.get("department") or None,
        )
    except services.AccountError as e:
        flash(str(ACCOUNT_ERRORS.get(str(e), e)), "error")
        return redirect(url_for("district_admin.users"))
    return secret_page(
        "platform/password.html",
        user=user,
        password=password,
        back=url_for("district_admin.users"),
    )


def _user_or_404(user_id: uuid.UUID):  # type: ignore[no-untyped-def]
    user = services.get_user(g.tenant, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<uuid:user_id>/active")
@requires("district.configure")
def set_user_active(user_id: uuid.UUID) -> Any:
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    if not active and user.id == current_user.id:
        flash(str(ACCOUNT_ERRORS["self"]), "error")
        return redirect(url_for("district_admin.users"))
    services.set_account_active(g.tenant, user, active)
    flash(
        _("%(user)s was reactivated.", user=user.username)
        if active
        else _("%(user)s was deactivated.", user=user.username),
        "success",
    )
    return redirect(url_for("district_admin.users"))


@bp.post("/users/<uuid:user_id>/reset")
@requires("district.configure")
def reset_user_password(user_id: uuid.UUID) -> Any:
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash(_("Use “Change password” for your own account."), "error")
        return redirect(url_for("district_admin.users"))
    password = services.reset_password(g.tenant, user)
    return secret_page(
        "platform/password.html",
        user=user,
        password=password,
        back=url_for("district_admin.users"),
    )


@bp.get("/departments")
@requires("district.configure")
def departments() -> Any:
    return render_template(
        "platform/district_departments.html",
        rows=services.departments(g.tenant),
        kinds=services.department_kinds(),
        form={},
    )


@bp.post("/departments")
@requires("district.configure")
def create_department() -> Any:
    form = {k: request.form.get(k, "").strip() for k in ("key", "kind", "name")}
    try:
        dept = services.create_department(g.tenant, form["key"], form["kind"], form["name"])
    except services.AccountError as e:
        flash(str(ACCOUNT_ERRORS.get(str(e), e)), "error")
        return render_template(
            "platform/district_departments.html",
            rows=services.departments(g.tenant),
            kinds=services.department_kinds(),
            form=form,
        ), 400
    flash(_("The department %(name)s was added.", name=dept.name), "success")
    return redirect(url_for("district_admin.departments"))


@bp.post("/departments/<uuid:department_id>/active")
@requires("district.configure")
def set_department_active(department_id: uuid.UUID) -> Any:
    active = request.form.get("active") == "1"
    try:
        dept = services.set_department_active(g.tenant, department_id, active)
    except services.AccountError:
        abort(404)
    flash(
        _("%(name)s was reactivated.", name=dept.name)
        if active
        else _("%(name)s was deactivated.", name=dept.name),
        "success",
    )
    return redirect(url_for("district_admin.departments"))
