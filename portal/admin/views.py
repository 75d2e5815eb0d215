"""Flask-Admin views that follow DESIGN.md §3 for every role.

- `/t/<slug>/admin/`: the district admin, for the district lead only (issues 13 and 19):
  leads manage departments and users of their district and read every tenant-owned
  record. Officers and auditors get 404 on every admin URL, exactly like a page that
  does not exist: they have the portal's own pages, which apply the visibility rules
  (draft minutes, other departments' review comments) that a generic table view cannot.
- `/platform/admin/`: operators see the platform-level table of tenants, never
  business records.

Hardening (issue 19; `hardening.py`): page numbers clamped, no sorting on JSON columns, filters that
refuse values they cannot clean, menu links built per request (never cached across
districts), a working brand link, translated record types, columns and enum values,
no inline script in the pages (CSP), and database errors shown as a sentence, not SQL.

Scoping is NOT done here: every query Flask-Admin makes (list, count, search, detail,
edit, delete, export, ajax look-ups, relationship drop-downs) goes through
`db.session`, so the central hook in `portal.tenancy.scope` adds the tenant (and the
officer's department) condition. `<slug>` in the URL is handled like every other
district URL by `portal.web.prepare_request` (other tenants' users get 404). What this
module adds: the role checks, 404 for ids out of scope, forms offering only in-scope
choices, no tenant/department/owner fields in forms, CSRF (Flask-WTF) on every form,
re-authentication before account changes, and an audit event for each export.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, flash, g, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink, MenuView
from flask_admin.theme import Bootstrap4Theme
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import validators
from wtforms.fields import SelectField

from portal.admin import formatters
from portal.admin.hardening import Hardened, SafeEnumEqual, is_json
from portal.admin.labels import (
    COLUMN_LABELS,
    HIDDEN_EVERYWHERE,
    HIDDEN_IN_LISTS,
    MODEL_LABELS,
    code_tables,
)
from portal.audit import trail
from portal.auth import roles
from portal.auth.models import Role, User
from portal.extensions import db, login_manager
from portal.kernel.forms import PortalForm
from portal.kernel.grants import ROLE_LABELS as ROLE_NAMES
from portal.kernel.grants import can
from portal.tenancy.models import Department

log = logging.getLogger(__name__)

#: The district back office is the lead's: every district admin view requires this.
DISTRICT_ADMIN_PERMISSION = "district.configure"

DISTRICT_URL = "/t/<slug>/admin"
PLATFORM_URL = "/platform/admin"
ENDPOINT_PREFIX = "tadmin_"  # district admin view endpoints: tadmin_<table>

# Columns never offered in a form: scope, ownership and bookkeeping are set by the app.
PROTECTED_COLUMNS = (
    "tenant_id",
    "id",
    "department_id",
    "created_by_id",
    "uploaded_by_id",
    "submitted_by_id",
    "reviewed_by_id",
    "actor_id",
    "row_version",
    "password_hash",
    "session_version",
    "created_at",
)


class SecureBaseForm(PortalForm):
    """Flask-WTF form: the app-wide CSRF token (the same as every other portal form)."""


class _Access:
    """Role checks shared by the district and platform views.

    A signed-in user without the permission gets `denied_status`: 404 in the district
    admin (it does not exist for them, like any out-of-scope page), 403 on the platform."""

    read_permission = DISTRICT_ADMIN_PERMISSION
    write_permission: str | None = None
    denied_status = 404

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and can(current_user, self.read_permission))

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        abort(self.denied_status)

    @property
    def _writer(self) -> bool:
        return bool(
            self.write_permission
            and current_user.is_authenticated
            and can(current_user, self.write_permission)
        )


class _ById:
    """Ids in URLs are the record's `id`; a record out of scope answers 404.

    Tenant-owned primary keys are (tenant_id, id); the URL carries only `id` and the
    scoped session supplies the tenant, so an id of another tenant simply isn't found.
    """

    model: Any

    def get_pk_value(self, model: Any) -> Any:
        return str(model.id)

    def get_one(self, id: Any) -> Any:
        try:
            ident = uuid.UUID(str(id))
        except ValueError:
            abort(404)
        row = (
            db.session.execute(sa.select(self.model).where(self.model.id == ident))
            .unique()
            .scalar_one_or_none()
        )
        if row is None:
            abort(404)
        return row


class ScopedModelView(_Access, _ById, Hardened, ModelView):
    """A model view whose role rules follow DESIGN.md §3."""

    form_base_class = SecureBaseForm
    page_size = 50
    can_view_details = True
    can_set_page_size = False
    action_disallowed_list = ["delete"]
    form_excluded_columns = PROTECTED_COLUMNS
    column_exclude_list = ("tenant_id", "password_hash", "token_hash")
    column_details_exclude_list = ("tenant_id", "password_hash", "token_hash")
    column_export_exclude_list = ("tenant_id", "password_hash", "token_hash")
    column_display_pk = False
    export_types = ["csv"]

    column_labels = COLUMN_LABELS
    column_type_formatters = {
        **ModelView.column_type_formatters,  # type: ignore[dict-item]
        dt.datetime: lambda view, value, name: formatters.local_time(value),
        dt.date: lambda view, value, name: formatters.local_date(value),
        # Flask-Admin's icon carries "name: true" as its title: a word, not a code.
        bool: lambda view, value, name: _("yes") if value else _("no"),
    }
    column_type_formatters_detail = column_type_formatters

    def __init__(self, model: type, **kw: Any) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        json_columns = tuple(c.name for c in table.columns if is_json(c))
        enum_columns = [c.name for c in table.columns if getattr(c.type, "enum_class", None)]
        self.column_labels = {**COLUMN_LABELS, **(getattr(self, "column_labels", None) or {})}
        # JSON holds structured policy data (codes): readable in details, not in the table.
        excluded = tuple(getattr(self, "column_exclude_list", None) or ())
        self.column_exclude_list = excluded + json_columns
        relations = [r.key for r in sa.inspect(model).relationships]
        ids = tuple(c.name for c in table.columns if c.name.endswith("_id"))
        self.column_exclude_list = (
            self.column_exclude_list + HIDDEN_IN_LISTS + HIDDEN_EVERYWHERE + ids
        )
        # Details: the same, but the JSON the back office can read out is shown as text
        # (`formatters.json_detail`); the rest is read out on the policy page.
        self.column_details_exclude_list = (
            tuple(getattr(self, "column_details_exclude_list", None) or ())
            + HIDDEN_EVERYWHERE
            + ids
            + tuple(c for c in json_columns if c not in formatters.READABLE_JSON)
        )
        codes = {n: t for n, t in code_tables().items() if n in table.columns}
        self.column_formatters = {
            **{name: formatters.related_formatter for name in relations},
            **{name: formatters.enum_formatter for name in enum_columns},
            **{name: formatters.code_formatter(t) for name, t in codes.items()},
            **(
                {"action": formatters.review_action_formatter}
                if model.__name__ == "DutyReviewRecord"
                else {}
            ),
            **({"sha256": formatters.literal_formatter} if "sha256" in table.columns else {}),
            **(
                {"content_type": formatters.file_type_formatter}
                if "content_type" in table.columns
                else {}
            ),
            **({"period": formatters.period_formatter} if "period" in table.columns else {}),
            **(getattr(self, "column_formatters", None) or {}),
        }
        # JSON in details and exports as a person reads it, never as raw JSON text.
        self.column_formatters_detail = {
            **self.column_formatters,
            **{name: formatters.json_detail for name in json_columns},
        }
        self.column_formatters_export = {
            **self.column_formatters,
            **{name: formatters.json_export for name in json_columns},
        }
        super().__init__(model, db, **kw)

    # -- what each role may do
    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._writer and self.allow_create

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._writer and self.allow_edit

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._writer and self.allow_delete

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        return bool(current_user.is_authenticated and can(current_user, self.export_permission))

    allow_create = allow_edit = allow_delete = False
    export_permission = DISTRICT_ADMIN_PERMISSION

    # -- exports are recorded in the audit trail
    @expose("/export/<export_type>/")
    def export(self, export_type: str) -> Any:
        formatters.department_names()  # the rows are streamed outside the tenant scope
        response = super().export(export_type)
        if getattr(response, "status_code", 200) == 200 and self.can_export:
            trail.record(
                db.session,
                "export",
                entity_type=self.model.__name__,
                data={"format": export_type},
            )  # committed with the request (portal.kernel.uow)
        return response


def _department_choices() -> list[tuple[str, str]]:
    """Only the current district's active departments (the scoped session filters)."""
    rows = db.session.execute(
        sa.select(Department).where(Department.active).order_by(Department.sort_order)
    ).scalars()
    return [("", "—")] + [(str(d.id), d.name) for d in rows]


ROLE_LABELS = {role: ROLE_NAMES[role] for role in roles.DISTRICT_ROLES}


class DepartmentView(ScopedModelView):
    """Leads manage their district's departments; everyone in the district reads them."""

    write_permission = "district.configure"
    allow_create = allow_edit = allow_delete = True
    # The key (used in login names and the policy file) is entered when adding a
    # department; people find departments by name and kind.
    column_list = ("name", "kind", "active", "sort_order")
    column_details_list = ("name", "kind", "active", "sort_order")
    column_searchable_list = ("name",)
    column_filters = ("active",)
    column_default_sort = "sort_order"
    form_columns = ("key", "name", "kind", "active", "sort_order")
    column_labels = {
        "key": _l("Key"),
        "name": _l("Name"),
        "kind": _l("Kind"),
        "active": _l("Active"),
        "sort_order": _l("Order"),
    }
    form_args = {
        "key": {"validators": [validators.Regexp(r"^[a-z][a-z0-9_]{1,59}$")]},
        "name": {"validators": [validators.InputRequired(), validators.Length(max=120)]},
    }


class UserView(ScopedModelView):
    """Leads change their district's accounts (re-authenticated); auditors read them.

    Accounts are created on the district's Users page (it shows the temporary password
    once); here a lead changes name, role, department and active state.
    """

    write_permission = "district.configure"
    allow_edit = True
    column_list = ("username", "display_name", "role", "department", "active", "last_login_at")
    column_details_list = column_list + ("created_at", "must_change_password")
    column_export_list = column_list
    column_searchable_list = ("username", "display_name")
    column_filters = (
        SafeEnumEqual(
            User.role, _l("Role"), options=[(r.name, label) for r, label in ROLE_LABELS.items()]
        ),
        "active",
    )
    column_default_sort = "username"
    form_columns = ("display_name", "role", "department_id", "active")
    column_labels = {
        "username": _l("Username"),
        "display_name": _l("Name"),
        "role": _l("Role"),
        "department": _l("Department"),
        "department_id": _l("Department"),
        "active": _l("Active"),
        "last_login_at": _l("Last sign-in"),
    }
    column_formatters = {
        "role": lambda v, c, m, n: ROLE_LABELS.get(m.role, m.role.value),
        "department": lambda v, c, m, n: m.department.name if m.department else "",
    }
    form_overrides = {"role": SelectField, "department_id": SelectField}
    form_args = {
        "role": {"choices": [(r.value, label) for r, label in ROLE_LABELS.items()]},
        "department_id": {"choices": [], "validate_choice": True},
    }

    def get_query(self) -> Any:
        return db.session.query(self.model).filter(User.role != Role.platform_operator)

    def get_count_query(self) -> Any:
        return db.session.query(sa.func.count(User.id)).filter(User.role != Role.platform_operator)

    def _fill_choices(self, form: Any, obj: Any = None) -> Any:
        form.department_id.choices = _department_choices()
        if obj is not None and request.method == "GET":
            form.role.data = obj.role.value
            form.department_id.data = str(obj.department_id) if obj.department_id else ""
        return form

    def edit_form(self, obj: Any = None) -> Any:
        return self._fill_choices(super().edit_form(obj), obj)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        from portal.auth.views import recently_authenticated

        if request.method == "POST" and self.can_edit and not recently_authenticated():
            flash(_("Please confirm your password before changing accounts."), "info")
            return redirect(url_for("auth.reauth", next=request.full_path))
        return super().edit_view()

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        """Account changes go through the accounts service and its rules."""
        from portal.auth import operations

        operations.apply_admin_edit(current_user._get_current_object(), model)

    def handle_view_exception(self, exc: Exception) -> bool:
        from portal.kernel.rules import RuleError

        if isinstance(exc, RuleError):
            flash(str(exc.message), "error")
            return True
        return super().handle_view_exception(exc)


class ReadOnlyView(ScopedModelView):
    """Any other tenant-owned model: the lead reads it."""

    column_display_all_relations = False
    can_view_details = True


class TenantView(_Access, _ById, Hardened, ModelView):
    """Operators: the platform's tenants (lifecycle actions are on the platform console)."""

    read_permission = "platform.console"
    denied_status = 403
    form_base_class = SecureBaseForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    column_list = ("slug", "name", "level", "province", "status", "created_at")
    column_searchable_list = ("slug", "name")
    column_filters = ("status",)
    column_labels = {
        "slug": _l("Slug"),
        "name": _l("Name"),
        "level": _l("Level"),
        "province": _l("Province"),
        "status": _l("Status"),
        "created_at": _l("Created"),
    }

    def __init__(self, model: type, **kw: Any) -> None:
        super().__init__(model, db, **kw)


class DistrictIndex(_Access, AdminIndexView):
    read_permission = DISTRICT_ADMIN_PERMISSION

    @expose("/")
    def index(self) -> Any:
        return self.render("admin/index.html")


class PlatformIndex(_Access, AdminIndexView):
    read_permission = "platform.console"
    denied_status = 403

    @expose("/")
    def index(self) -> Any:
        return self.render("admin/index.html")


def _auto_read_only_models() -> list[type]:
    """Every tenant-owned model without its own view (models added by others included)."""
    explicit = {Department, User}
    models = []
    for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.class_.__name__):
        cls = mapper.class_
        if cls in explicit or not getattr(cls, "__tenant_owned__", False):
            continue
        if getattr(cls, "__admin__", True) is False or "id" not in mapper.columns:
            continue
        models.append(cls)
    return models


def district_views() -> list[ScopedModelView]:
    views: list[ScopedModelView] = [
        DepartmentView(
            Department,
            name=_l("Departments"),
            endpoint=f"{ENDPOINT_PREFIX}departments",
            url="departments",
        ),
        UserView(User, name=_l("Accounts"), endpoint=f"{ENDPOINT_PREFIX}users", url="users"),
    ]
    for cls in _auto_read_only_models():
        view = type(f"{cls.__name__}AdminView", (ReadOnlyView,), {})
        table = cls.__table__.name  # type: ignore[attr-defined]
        try:
            views.append(
                view(
                    cls,
                    name=MODEL_LABELS.get(cls.__name__, cls.__name__),
                    endpoint=f"{ENDPOINT_PREFIX}{table}",
                    url=table,
                    category=_l("Records"),
                )
            )
        except Exception as exc:  # noqa: BLE001 - one odd model must not stop the app
            log.warning("no admin view for %s: %s", cls.__name__, exc)
    return views


def _home_link() -> str:
    from portal.auth.views import home_for

    return home_for(current_user) if current_user.is_authenticated else url_for("auth.login")


class HomeLink(MenuLink):
    def get_url(self) -> str:
        return _home_link()


def _uncached_menus(admin: Admin) -> None:
    """Flask-Admin caches each menu item's URL in the worker on first use; under
    `/t/<slug>/admin` that URL names the first district served, so every other district's
    pages linked to it. Menu URLs are built per request instead."""
    stack = list(admin._menu)
    while stack:
        item = stack.pop()
        if isinstance(item, MenuView):
            item._cache = False
            item._cached_url = None
        stack.extend(getattr(item, "_children", []))


_SCRIPT_URL = re.compile(r'href="javascript:void\(0\)"')
_RETURN_FALSE = re.compile(r'\s+onclick="return false;?"')
_CONFIRM = re.compile(
    r'onclick="return (?:faHelpers\.safeConfirm|confirm)\(\'((?:[^\'\\]|\\.)*)\'\);?"'
)
_ACTION = re.compile(r'onclick="return modelActions\.execute\(\'([\w-]*)\'\);?"')


def _inline_free(html: str) -> str:
    """Flask-Admin's inline `javascript:` links and `onclick` handlers, as data attributes
    that `static/admin.js` (a file, allowed by the CSP) acts on."""
    html = _SCRIPT_URL.sub('href="#" data-noop="1"', html)
    html = _RETURN_FALSE.sub("", html)
    html = _CONFIRM.sub(lambda m: f'data-confirm="{m.group(1).replace(chr(92), "")}"', html)
    return _ACTION.sub(r'data-model-action="\1"', html)


def without_inline_script(response: Any) -> Any:
    """The back office's pages carry no inline script: the CSP (`script-src 'self'`)
    blocked Flask-Admin's handlers, so menus logged errors and delete confirmations
    never showed."""
    if (
        request.blueprint
        and request.blueprint.startswith(("tadmin", "padmin"))
        and response.mimetype == "text/html"
        and not response.direct_passthrough
        and not response.is_streamed
    ):
        response.set_data(_inline_free(response.get_data(as_text=True)))
    return response


def _admin(app: Flask, name: Any, url: str, endpoint: str, index: type, views: list) -> Admin:
    """One Flask-Admin site in the portal's theme, ending with the link back to the portal
    (its menus never cached: they depend on the user)."""
    site = Admin(
        app,
        name=name,
        url=url,
        endpoint=endpoint,
        index_view=index(name=_l("Admin home"), url=url, endpoint=endpoint),
        theme=Bootstrap4Theme(base_template="admin/portal_master.html"),
        static_url_path="/static/admin-assets",
    )
    for view in views:
        site.add_view(view)
    site.add_link(HomeLink(name=_l("Back to the portal")))
    _uncached_menus(site)
    return site


def init_app(app: Flask) -> None:
    from portal.tenancy.models import Tenant

    _admin(app, _l("District admin"), DISTRICT_URL, "tadmin", DistrictIndex, district_views())
    tenants = TenantView(Tenant, name=_l("Districts"), endpoint="padmin_tenants", url="tenants")
    _admin(app, _l("Platform admin"), PLATFORM_URL, "padmin", PlatformIndex, [tenants])
    app.after_request(without_inline_script)
    _ = g  # noqa: F841 - g is used by url_defaults for the slug


__all__ = ["district_views", "init_app"]
