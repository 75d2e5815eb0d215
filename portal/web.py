"""Request lifecycle: tenant from the URL, scope and audit actor, security headers, errors."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.audit import trail
from portal.auth.models import Role
from portal.extensions import db
from portal.kernel import uow
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus


class TenantClosed(Exception):
    """The tenant exists but is suspended or being provisioned/deleted."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant


def load_tenant_from_url(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """`/t/<slug>/…`: only the tenant's own users get in; everyone else gets 404."""
    if not values or "slug" not in values:
        return
    slug = values.pop("slug")
    own = current_user.tenant if current_user.is_authenticated else None
    if own is not None and own.slug == slug:
        tenant = own  # loaded with the user: no second look-up on every request
    else:
        tenant = db.session.execute(db.select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is None or tenant.status in (TenantStatus.pending_deletion, TenantStatus.purged):
        abort(404)
    g.tenant = tenant
    if not current_user.is_authenticated:
        return  # the view's login requirement redirects to sign-in
    if current_user.tenant_id != tenant.id:
        _record_denial(tenant, slug)
        abort(404)
    if tenant.status != TenantStatus.active:
        raise TenantClosed(tenant)
    department_id = current_user.department_id if current_user.role == Role.dept_officer else None
    g.scope_token = scope.set_scope(
        scope.Scope(
            tenant_id=tenant.id,
            department_id=department_id,
            read_only=current_user.role == Role.auditor,
        )
    )


def _record_denial(tenant: Tenant, slug: str) -> None:
    """A probe of another tenant's URL is recorded in the prober's own chain."""
    own = current_user.tenant_id
    with scope.tenant_scope(own) if own else scope.cross_tenant("record denial"):
        trail.record(
            db.session,
            "access_denied",
            tenant_id=own or trail.PLATFORM_CHAIN,
            entity_type="url",
            entity_id=request.path[:80],
            summary=f"cross-tenant probe of /t/{slug}/",
        )
        db.session.commit()


def prepare_request(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Runs first for every routed request: audit actor, then the tenant from the URL."""
    set_actor()
    bind_user_actor()
    load_tenant_from_url(endpoint, values)


def url_defaults(endpoint: str, values: dict[str, Any]) -> None:
    from flask import current_app

    if "slug" in values or not hasattr(g, "tenant"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        values["slug"] = g.tenant.slug


def set_actor() -> None:
    g.request_id = request.headers.get("X-Request-Id", "")[:40] or uuid.uuid4().hex
    actor = trail.Actor(
        ip=request.remote_addr or "",
        user_agent=(request.user_agent.string or "")[:255],
        request_id=g.request_id,
        name="anonymous",
        role="anonymous",
    )
    g.actor_token = trail.set_actor(actor)


def bind_user_actor() -> None:
    """Once Flask-Login knows the user, the audit actor is that user."""
    if current_user.is_authenticated:
        actor = trail.with_actor(
            trail.current_actor(),
            id=current_user.id,
            name=current_user.username,
            role=current_user.role.value,
        )
        trail.set_actor(actor)


def teardown(exc: BaseException | None) -> None:
    token = g.pop("scope_token", None)
    if token is not None:
        scope.reset_scope(token, refresh=False)
    actor_token = g.pop("actor_token", None)
    if actor_token is not None:
        trail.reset_actor(actor_token)


def security_headers(response: Any) -> Any:
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'self'; object-src 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if request.headers.get("X-Request-Id") is None and hasattr(g, "request_id"):
        response.headers.setdefault("X-Request-Id", g.request_id)
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, code: str, message: str) -> Any:
    if _wants_json():
        return {"error": {"code": code, "message": message}}, status
    return render_template("error.html", status=status, message=message), status


def register_errors(app: Flask) -> None:
    @app.errorhandler(TenantClosed)
    def tenant_closed(e: TenantClosed) -> Any:
        message = _(
            "The district %(name)s is suspended; its data is kept but it is not in service.",
            name=e.tenant.name,
        )
        return _error(403, "tenant_suspended", message)

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError) -> Any:
        return _error(
            400,
            "csrf",
            _(
                "The form has expired or is missing its security token. Please reload the page and try again."
            ),
        )

    @app.errorhandler(400)
    def bad_request(e: Any) -> Any:
        return _error(400, "bad_request", _("The request is not valid."))

    @app.errorhandler(403)
    def forbidden(e: Any) -> Any:
        return _error(403, "forbidden", _("You do not have permission to do this."))

    @app.errorhandler(404)
    def not_found(e: Any) -> Any:
        return _error(404, "not_found", _("The page or record was not found."))

    @app.errorhandler(405)
    def not_allowed(e: Any) -> Any:
        return _error(405, "method_not_allowed", _("This method is not allowed here."))

    @app.errorhandler(413)
    def too_large(e: Any) -> Any:
        return _error(413, "too_large", _("The upload is too large."))

    @app.errorhandler(429)
    def too_many(e: Any) -> Any:
        return _error(
            429, "rate_limited", _("Too many attempts. Please wait a minute and try again.")
        )

    @app.errorhandler(500)
    def server_error(e: Any) -> Any:
        db.session.rollback()
        return _error(
            500, "server_error", _("Something went wrong on our side; the change was not saved.")
        )


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(prepare_request)
    app.url_defaults(url_defaults)
    app.teardown_request(teardown)
    app.after_request(security_headers)
    app.after_request(uow.commit_request)  # runs first: the one commit of a request
    register_errors(app)

    from portal import domains, ui
    from portal.auth.views import home_for, init_login

    init_login(app)
    ui.init_app(app)
    for views in domains.modules("views"):
        if hasattr(views, "bp"):
            app.register_blueprint(views.bp)
        if hasattr(views, "init_app"):
            views.init_app(app)

    from portal import api

    for _api_module in domains.modules("api"):
        pass  # importing a domain's `api` module registers its endpoints on `api.bp`
    api.init_app(app)

    @app.get("/")
    def index() -> Any:
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
        return redirect(url_for("auth.login"))

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}
