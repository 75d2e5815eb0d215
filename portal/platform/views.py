"""The platform console for operators: tenants with counts and health, never business records.

Onboarding (template or upload → preview → confirm), each tenant's lifecycle,
its district-lead accounts, and its configuration / full data downloads.
Routes take `tenant_slug`, not `slug`: `slug` is reserved for `/t/<slug>/` URLs.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.auth import operations
from portal.kernel import clock, downloads, timefmt
from portal.kernel.grants import LEAD, requires
from portal.kernel.labels import labeller
from portal.kernel.periods import Period
from portal.kernel.uow import attempt
from portal.platform import dashboard, onboarding, services
from portal.platform.onboarding import problem_text
from portal.tenancy import scope
from portal.tenancy.models import STATUS_LABELS as TENANT_STATUS_LABELS
from portal.tenancy.models import Tenant, TenantStatus
from portal.ui import NavItem, register_nav
from portal.webhelpers import found_or_404

bp = Blueprint("platform", __name__, url_prefix="/platform", template_folder="templates")

register_nav(NavItem(_l("Platform console"), "platform.console", "platform.console", order=0))
register_nav(NavItem(_l("Onboard a district"), "platform.onboard", "tenant.manage", order=1))

PER_PAGE = 50
tenant_status_label = labeller(TENANT_STATUS_LABELS)


def secret_page(template: str, **context: Any) -> Response:
    """A page showing a temporary password: never cached by the browser or a proxy."""
    response = Response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def password_answer(outcome: Any, back: str, user: Any = None) -> Any:
    """After creating an account (`user` None: the outcome carries it) or resetting a
    password: the refusal flashed on the page the operator came from (`back`), or the
    temporary password shown once on a page that is never cached."""
    if outcome.error is not None:
        flash(str(outcome.error.message), "error")
        return redirect(back)
    if user is None:
        user, password = outcome.value.user, outcome.value.temporary_password
    else:
        password = outcome.value
    return secret_page("platform/password.html", user=user, password=password, back=back)


def set_account_active(user: Any, active: bool, tenant: Tenant) -> None:
    """Deactivates or reactivates an account of the district and says how it went (the
    operator on a lead, the district's admin on its users)."""
    outcome = attempt(lambda: operations.set_active(current_user, user, active, tenant=tenant))
    if outcome.error is not None:
        flash(str(outcome.error.message), "error")
    elif active:
        flash(_("%(user)s was reactivated.", user=user.username), "success")
    else:
        flash(_("%(user)s was deactivated.", user=user.username), "success")


def _tenant_or_404(tenant_slug: str, purged: bool = True) -> Tenant:
    """The tenant of the URL; `purged=False` where a purged tenant has nothing left to act on."""
    return found_or_404(services.tenant_by_slug(tenant_slug, include_purged=purged))


def _locale() -> str:
    return str(get_locale() or "zh")


def _policy_until(r: services.TenantRow) -> str:
    if not r.has_policy:
        return _("no policy in force")
    return timefmt.format_date(r.policy_until) if r.policy_until else _("open-ended")


#: The console's district list (sortable by what the tenants table holds).
TENANT_COLUMNS = [
    listing.Column("name", _l("District"), lambda r: r.tenant.name, sort=Tenant.name),
    listing.Column("province", _l("Province"), lambda r: r.tenant.province, sort=Tenant.province),
    listing.Column("slug", _l("Slug"), lambda r: r.tenant.slug, sort=Tenant.slug),
    listing.Column(
        "status",
        _l("Status"),
        lambda r: tenant_status_label(r.tenant.status),
        sort=Tenant.status,
    ),
    listing.Column("departments", _l("Departments"), lambda r: r.departments),
    listing.Column("users", _l("Users"), lambda r: r.users),
    listing.Column(
        "completion",
        _l("Completion"),
        lambda r: (
            f"{r.completion}% ({r.duties_accepted}/{r.duties_total})"
            if r.completion is not None
            else "—"
        ),
    ),
    listing.Column(
        "last_sign_in", _l("Last sign-in"), lambda r: clock.local(r.last_sign_in, r.tenant)
    ),
    listing.Column("last_meeting", _l("Last joint meeting"), lambda r: r.last_meeting),
    listing.Column("policy_until", _l("Policy valid until"), _policy_until),
]


def _tenant_rows(stmt: Any, limit: int | None, offset: int) -> list[services.TenantRow]:
    return services.tenant_rows(listing.scalars(stmt, limit, offset))


@bp.get("/")
@requires("platform.console")
def console() -> Any:
    search = listing.search_arg(limit=100)
    status_arg = request.args.get("status", "")
    status = TenantStatus(status_arg) if status_arg in TenantStatus.__members__ else None
    lst = listing.Listing.from_request(
        "platform.console",
        TENANT_COLUMNS,
        keep={"q": search, "status": status_arg if status else ""},
        title=_("Districts"),
    )
    stmt = services.tenant_query(search=search, status=status)
    with scope.cross_tenant("platform console: the district list"):
        if lst.exporting:
            return lst.export(stmt, _tenant_rows, tiebreak=(Tenant.id,))
        rows, total = lst.fetch(stmt, _tenant_rows, tiebreak=(Tenant.id,))
    return render_template(
        "platform/console.html",
        rows=rows,
        total=total,
        listing=lst,
        search=search,
        status=status_arg,
        statuses=list(TenantStatus),
        period=Period.current().label,
        today=clock.today(),
        dashboard=dashboard.console_dashboard(),
        human_size=dashboard.human_size,
    )


# ---------------------------------------------------------------- onboarding


@bp.get("/onboard")
@requires("tenant.manage")
def onboard() -> Any:
    return render_template(
        "platform/onboard.html",
        templates=onboarding.templates(),
        levels=onboarding.level_choices(),
        form={},
    )


FORM_FIELDS = ("name", "slug", "level", "lead_username", "lead_name")


def _form() -> dict[str, str]:
    return {k: request.form.get(k, "").strip()[:100] for k in FORM_FIELDS}


def _preview_page(text: str, form: dict[str, str], problems: list | None = None) -> Any:
    """The preview (or the problems) with every typed field kept and editable."""
    preview = onboarding.preview(
        text,
        form["slug"] or None,
        form["lead_username"] or None,
        name=form["name"] or None,
        level=form["level"] or None,
    )
    problems = preview.problems if problems is None else problems
    slug_only = bool(problems) and all(
        onboarding.is_slug_problem(p, bool(form["lead_username"])) for p in problems
    )
    return render_template(
        "platform/preview.html",
        preview=preview,
        text=text,
        form=form,
        levels=onboarding.level_choices(),
        slug_only=slug_only,
        problems=[problem_text(p, _locale()) for p in problems],
        warnings=[problem_text(w, _locale()) for w in preview.warnings],
    ), (200 if preview.ok and not problems else 422)


def _read_source() -> tuple[str | None, str | None]:
    """The policy text from the chosen template or the uploaded file, or an error."""
    source = request.form.get("source", "template")
    chosen = request.files.get("policy_file")
    if chosen is not None and chosen.filename:
        source = "upload"  # a chosen file wins over the default radio button
    if source == "upload":
        upload = request.files.get("policy_file")
        if upload is None or not upload.filename:
            return None, _("Please choose a policy file to upload.")
        if not upload.filename.lower().endswith((".yaml", ".yml")):
            return None, _("The policy file must be a .yaml or .yml file.")
        raw = upload.read(onboarding.MAX_POLICY_BYTES + 1)
        if len(raw) > onboarding.MAX_POLICY_BYTES:
            return None, _("The policy file is too large (at most 2 MB).")
        try:
            return raw.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return None, _("The policy file must be UTF-8 text.")
    if source == "text":
        text = request.form.get("policy_text", "")
        return (text, None) if text.strip() else (None, _("The policy text is empty."))
    try:
        return onboarding.template_text(request.form.get("template", "")), None
    except KeyError:
        return None, _("Please choose one of the templates.")


@bp.post("/onboard")
@requires("tenant.manage")
def onboard_preview() -> Any:
    form = _form()
    text, error = _read_source()
    if text is None:
        flash(error or "", "error")
        return render_template(
            "platform/onboard.html",
            templates=onboarding.templates(),
            levels=onboarding.level_choices(),
            form=form,
        ), 400
    return _preview_page(text, form)


@bp.post("/onboard/confirm")
@requires("tenant.manage")
def onboard_confirm() -> Any:
    form = _form()
    text = request.form.get("policy_text", "")
    try:
        result = onboarding.onboard(
            text,
            form["slug"] or None,
            form["lead_username"] or None,
            form["lead_name"] or None,
            name=form["name"] or None,
            level=form["level"] or None,
        )
    except onboarding.OnboardingRefused as e:
        return _preview_page(text, form, list(e.problems))
    return secret_page("platform/onboarded.html", result=result)


# ---------------------------------------------------------------- the format guide

FORMAT_GUIDE = onboarding.TEMPLATES_DIR.parent / "docs" / "policy-format.md"


@functools.lru_cache(maxsize=2)
def _format_guide_html(mtime: float) -> str:
    """docs/policy-format.md rendered and sanitised (cached until the file changes)."""
    from portal.kernel import markdown

    return markdown.render(FORMAT_GUIDE.read_text(encoding="utf-8"), document=True)


@bp.get("/policy-format")
@requires("platform.console")
def policy_format() -> Any:
    """The policy-file format guide as a page, so operators need no repository checkout."""
    try:
        html = _format_guide_html(FORMAT_GUIDE.stat().st_mtime)
    except OSError:
        abort(404)
    return render_template("platform/policy_format.html", guide=html)


# ---------------------------------------------------------------- one tenant


@bp.get("/tenants/<tenant_slug>")
@requires("tenant.manage")
def tenant(tenant_slug: str) -> Any:
    t = _tenant_or_404(tenant_slug)
    row = services.tenant_overview(search=t.slug)
    row = next((r for r in row if r.tenant.id == t.id), None)
    leads = operations.district_users(t, LEAD) if t.status != TenantStatus.purged else []
    return render_template(
        "platform/tenant.html",
        t=t,
        row=row,
        leads=leads,
        actions=_actions(t.status),
        purge_after=t.status_changed_at + dt.timedelta(days=services.RETENTION_DAYS),
        period=Period.current().label,
    )


def _actions(status: TenantStatus) -> list[tuple[str, str, str]]:
    """(action, button label, confirmation question or '') allowed in this state."""
    S = TenantStatus  # noqa: N806
    out = []
    if status == S.provisioning:
        out.append(("activate", _("Activate"), ""))
    if status == S.suspended:
        out.append(("resume", _("Resume"), ""))
    if status == S.active:
        out.append(
            (
                "suspend",
                _("Suspend"),
                _("Suspend this district? Nobody of it can sign in until it is resumed."),
            )
        )
    if status in (S.active, S.suspended):
        out.append(
            (
                "delete",
                _("Mark for deletion"),
                _(
                    "Mark this district for deletion? It is hidden at once and purged after "
                    "30 days unless restored."
                ),
            )
        )
    if status == S.pending_deletion:
        out.append(("restore", _("Restore"), ""))
    return out


@bp.post("/tenants/<tenant_slug>/status")
@requires("tenant.manage")
def change_status(tenant_slug: str) -> Any:
    t = _tenant_or_404(tenant_slug)
    action = request.form.get("action", "")
    reason = request.form.get("reason", "").strip()[:200]
    if action not in services.ACTIONS:
        abort(400)
    if not attempt(lambda: services.apply_action(t, action, reason)).ok:
        flash(_("This change is not possible in the district's current state."), "error")
        return redirect(url_for("platform.tenant", tenant_slug=t.slug))
    flash(
        _("%(name)s is now: %(status)s", name=t.name, status=tenant_status_label(t.status)),
        "success",
    )
    return redirect(url_for("platform.tenant", tenant_slug=t.slug))


@bp.post("/tenants/<tenant_slug>/purge")
@requires("tenant.manage")
def purge(tenant_slug: str) -> Any:
    t = _tenant_or_404(tenant_slug)
    outcome = attempt(lambda: services.purge_tenant(t, request.form.get("confirm_slug", "")))
    if not outcome.ok:
        if t.status != TenantStatus.pending_deletion:
            flash(_("Only a district pending deletion can be purged."), "error")
        else:
            flash(_("The typed slug does not match; nothing was purged."), "error")
        return redirect(url_for("platform.tenant", tenant_slug=t.slug))
    flash(_("%(name)s was purged. Its audit trail is kept.", name=t.name), "success")
    return redirect(url_for("platform.console"))


@bp.get("/tenants/<tenant_slug>/policy.yaml")
@requires("tenant.manage")
def export_policy(tenant_slug: str) -> Any:
    from portal.platform.cli import dump_policy

    t = _tenant_or_404(tenant_slug, purged=False)
    text = dump_policy(services.export_configuration(t))
    return downloads.file_answer(text, f"{t.slug}.yaml", "application/x-yaml")


@bp.post("/tenants/<tenant_slug>/archive")
@requires("tenant.manage")
def download_archive(tenant_slug: str) -> Any:
    """The full data export (audited as tenant_archive_exported in the platform chain)."""
    from portal.platform import archive

    t = _tenant_or_404(tenant_slug, purged=False)
    outcome = attempt(lambda: archive.archive_bytes(t))
    if outcome.error is not None or outcome.value is None:  # larger than the archive limit
        flash(str(outcome.error.message if outcome.error else ""), "error")
        return redirect(url_for("platform.tenant", tenant_slug=t.slug))
    data, _manifest = outcome.value
    stamp = clock.today().isoformat()
    return downloads.file_answer(data, f"{t.slug}-archive-{stamp}.zip", "application/zip")


# ---------------------------------------------------------------- lead accounts


@bp.post("/tenants/<tenant_slug>/leads")
@requires("tenant.manage")
def create_lead(tenant_slug: str) -> Any:
    t = _tenant_or_404(tenant_slug, purged=False)
    outcome = attempt(
        lambda: operations.create_user(
            current_user,
            tenant=t,
            username=request.form.get("username", ""),
            display_name=request.form.get("display_name", ""),
            role=LEAD,
        )
    )
    return password_answer(outcome, url_for("platform.tenant", tenant_slug=t.slug))


def _lead_or_404(t: Tenant, user_id: uuid.UUID):  # type: ignore[no-untyped-def]
    user = operations.district_user(t, user_id)
    if user is None or user.role != LEAD:
        abort(404)
    return user


@bp.post("/tenants/<tenant_slug>/leads/<uuid:user_id>/active")
@requires("tenant.manage")
def set_lead_active(tenant_slug: str, user_id: uuid.UUID) -> Any:
    t = _tenant_or_404(tenant_slug)
    user = _lead_or_404(t, user_id)
    set_account_active(user, request.form.get("active") == "1", t)
    return redirect(url_for("platform.tenant", tenant_slug=t.slug))


@bp.post("/tenants/<tenant_slug>/leads/<uuid:user_id>/reset")
@requires("tenant.manage")
def reset_lead_password(tenant_slug: str, user_id: uuid.UUID) -> Any:
    t = _tenant_or_404(tenant_slug)
    user = _lead_or_404(t, user_id)
    outcome = attempt(lambda: operations.reset_password(current_user, user, tenant=t))
    return password_answer(outcome, url_for("platform.tenant", tenant_slug=t.slug), user)


def init_app(app: Flask) -> None:
    from portal.platform.district_views import bp as district_bp

    app.register_blueprint(district_bp)
