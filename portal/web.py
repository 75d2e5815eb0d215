"""Request lifecycle: tenant from the URL, scope and audit actor, security headers, errors."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from portal.audit import trail
from portal.auth.models import Role
from portal.extensions import db, login_manager
from portal.kernel import denials, inputs, uow
from portal.kernel.proxies import TrustedProxyFix
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus

API_PREFIX = "/api/"


class BadInput(Exception):
    """A request carrying what no view may receive (NUL bytes, unstorable JSON): 400."""

    def __init__(self, message: str) -> None:
        self.message = message


class PortalJSONProvider(DefaultJSONProvider):
    """Every JSON body the app parses refuses deep nesting and lone surrogates (400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return inputs.checked_json(s, **kwargs)


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in any route: a number beyond BIGINT is a missing page (404), not an
    overflow in the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", inputs.MAX_BIGINT)
        super().__init__(map, *args, **kwargs)


class PortalSessionInterface(SecureCookieSessionInterface):
    """The API never reads or writes the browser session: a bearer token acts for one
    request only, so revoking or expiring it ends everything it could do."""

    def open_session(self, app: Flask, request: Any) -> Any:
        if request.path.startswith(API_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if request.path.startswith(API_PREFIX):
            return
        super().save_session(app, session, response)


def reject_bad_input(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Runs before anything reads the request: a NUL byte anywhere, or JSON the app could not
    store, is refused once here instead of failing deep inside a query."""
    json_value = None
    if request.is_json and request.get_data(cache=True):
        try:
            json_value = request.get_json(silent=False)
        except BadRequest as e:
            raise BadInput(
                _(
                    "The JSON body is not valid: it must be UTF-8, nested no deeper than "
                    "%(depth)d levels and free of unpaired surrogate characters.",
                    depth=inputs.MAX_JSON_DEPTH,
                )
            ) from e
    reads_body = request.method not in ("GET", "HEAD", "OPTIONS")
    files = request.files if reads_body else None
    form = request.form if reads_body else None
    if inputs.find_nul(request.path, request.args, form, files, json_value):
        raise BadInput(
            _("The request contains a NUL character, which is not allowed in any field.")
        )


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
        if not current_user.is_authenticated:
            # The same answer as for a real district: sign in first (no enumeration).
            abort(login_manager.unauthorized())
        _record_denial(None, slug)
        abort(404)
    if not current_user.is_authenticated:
        g.tenant = tenant
        return  # the view's login requirement redirects to sign-in
    if current_user.tenant_id != tenant.id:
        # g.tenant stays unset: the 404 page must not name or navigate the other district.
        _record_denial(tenant, slug)
        abort(404)
    g.tenant = tenant
    if tenant.status != TenantStatus.active:
        raise TenantClosed(tenant)
    department_id = current_user.department_id if current_user.role == Role.dept_officer else None
    g.scope_token = scope.set_scope(
        scope.Scope(
            tenant_id=tenant.id,
            department_id=department_id,
            read_only=current_user.role == Role.auditor,
            user_id=current_user.id,
            role=current_user.role.value,
        )
    )


def _record_denial(tenant: Tenant | None, slug: str) -> None:
    """A probe of another (or no) district's URL is recorded in the prober's own chain:
    the first of a window, then with a count at 10, 100 … (see `portal.kernel.denials`)."""
    count = denials.repeats(current_user.id, 404)
    if count is None:
        return
    own = current_user.tenant_id
    with scope.tenant_scope(own) if own else scope.cross_tenant("record denial"):
        trail.record(
            db.session,
            "access_denied",
            tenant_id=own or trail.PLATFORM_CHAIN,
            entity_type="url",
            entity_id=request.path[:80],
            summary=f"cross-tenant probe of /t/{slug[:60]}/",
            data={"repeats": count, "window_minutes": denials.WINDOW_SECONDS // 60},
        )
        db.session.commit()


def prepare_request(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Runs first for every routed request: audit actor, then the tenant from the URL."""
    set_actor()
    bind_user_actor()
    load_tenant_from_url(endpoint, values)


def url_defaults(endpoint: str, values: dict[str, Any]) -> None:
    if "slug" in values or not hasattr(g, "tenant"):
        return
    if _expects_slug(endpoint):
        values["slug"] = g.tenant.slug


_SLUG_ENDPOINTS: dict[tuple[int, str], bool] = {}


def _expects_slug(endpoint: str) -> bool:
    """Whether the endpoint's URL has a <slug> (asked of the URL map once per endpoint: a
    page builds dozens of URLs, and the map walks the endpoint's rules every time)."""
    from flask import current_app

    url_map = current_app.url_map
    key = (id(url_map), endpoint)
    found = _SLUG_ENDPOINTS.get(key)
    if found is None:
        found = _SLUG_ENDPOINTS[key] = url_map.is_endpoint_expecting(endpoint, "slug")
    return found


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
    return request.path.startswith(API_PREFIX)


def _error(status: int, code: str, message: str) -> Any:
    if _wants_json():
        return {"error": {"code": code, "message": message}}, status
    return render_template("error.html", status=status, message=message), status


def _database_unavailable(e: BaseException) -> bool:
    """Connection lost, refused or timed out (not a constraint or a bad statement)."""
    if isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated:
        return True
    return isinstance(e, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError)


def _bare_error(status: int, code: str, message: str) -> Any:
    """An error answer that touches no database: no user load, no tenant, no navigation.

    The signed-in user is treated as anonymous for the rest of this request (the user
    loader would query the database that just failed), so the page renders in the
    default language (Chinese) from the template alone."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the pool replaces it
        current_app.logger.warning("rollback after an error failed", exc_info=True)
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    if _wants_json():
        return {"error": {"code": code, "message": message}}, status
    return render_template("error_bare.html", status=status, message=message), status


def _failure_message(status: int) -> str:
    writing = request.method not in ("GET", "HEAD", "OPTIONS")
    if status == 503:
        if writing:
            return _(
                "The database is not reachable at the moment; the change was not saved. "
                "Please try again in a minute."
            )
        return _("The database is not reachable at the moment. Please try again in a minute.")
    if writing:
        return _("Something went wrong on our side; the change was not saved.")
    return _("Something went wrong on our side. Please try again later.")


# The plain HTTP errors: status, the code API clients see, the message people see.
HTTP_ERRORS: tuple[tuple[int, str, Any], ...] = (
    (400, "bad_request", _l("The request is not valid.")),
    (403, "forbidden", _l("You do not have permission to do this.")),
    (404, "not_found", _l("The page or record was not found.")),
    (405, "method_not_allowed", _l("This method is not allowed here.")),
    (413, "too_large", _l("The upload is too large.")),
    (429, "rate_limited", _l("Too many attempts. Please wait a minute and try again.")),
)


def _http_error(status: int, code: str, message: Any) -> Callable[[Any], Any]:
    def handler(e: Any) -> Any:
        return _error(status, code, str(message))

    return handler


def register_errors(app: Flask) -> None:
    @app.errorhandler(BadInput)
    def bad_input(e: BadInput) -> Any:
        return _error(400, "bad_input", e.message)

    @app.errorhandler(sa.exc.DBAPIError)
    def database_error(e: sa.exc.DBAPIError) -> Any:
        if not _database_unavailable(e):
            current_app.logger.exception("database error", exc_info=e)
            return _bare_error(500, "server_error", _failure_message(500))
        current_app.logger.error("database unavailable: %s", e.orig or e)
        response = _bare_error(503, "database_unavailable", _failure_message(503))
        return response[0], 503, {"Retry-After": "30"}

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

    for status, code, message in HTTP_ERRORS:
        app.register_error_handler(status, _http_error(status, code, message))

    @app.errorhandler(500)
    def server_error(e: Any) -> Any:
        original = getattr(e, "original_exception", None)
        status = 503 if original is not None and _database_unavailable(original) else 500
        code = "database_unavailable" if status == 503 else "server_error"
        return _bare_error(status, code, _failure_message(status))


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config.get("TRUSTED_PROXIES", ""))  # type: ignore[method-assign]
    app.json = PortalJSONProvider(app)
    app.session_interface = PortalSessionInterface()
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    app.url_value_preprocessor(reject_bad_input)
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
        """Liveness: the process answers. Cheap, touches nothing."""
        return {"status": "ok"}

    @app.get("/healthz/ready")
    def ready() -> Any:
        """Readiness: the database answers and the upload directory takes a file; 503 when
        either fails, so a load balancer takes this instance out of rotation."""
        checks = {"database": _database_ready(), "uploads": _uploads_ready()}
        healthy = all(checks.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "checks": {k: "ok" if v else "failed" for k, v in checks.items()},
        }
        return body, 200 if healthy else 503


def _database_ready() -> bool:
    try:
        # The request's own session: a second connection would queue behind its
        # transaction on SQLite (BEGIN IMMEDIATE), while on PostgreSQL either is the same.
        db.session.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readiness: database check failed", exc_info=True)
        with contextlib.suppress(Exception):
            db.session.rollback()
        return False


def _uploads_ready() -> bool:
    directory = current_app.config.get("UPLOAD_DIR") or ""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".ready-"):
            pass
        return True
    except OSError:
        current_app.logger.warning("readiness: upload directory %s not writable", directory)
        return False
