"""Sign-in, sign-out, password change, language, and the personal access tokens page."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from portal.audit import trail
from portal.auth import operations, passwords, services
from portal.auth.forms import ChangePasswordForm, LocaleForm, LoginForm, ReauthForm, TokenForm
from portal.auth.models import ApiToken, User
from portal.auth.passwords import HashingBusy, verify_password
from portal.extensions import db, limiter, login_manager
from portal.kernel import clock
from portal.kernel.grants import Role
from portal.kernel.redirects import safe_target
from portal.kernel.uow import attempt


def home_for(user: Any) -> str:
    """Where a signed-in user starts: the console for operators, the district home otherwise."""
    if user.role == Role.platform_operator:
        return url_for("platform.console")
    return url_for("district.home", slug=user.tenant.slug)


bp = Blueprint("auth", __name__, template_folder="templates")

REAUTH_SECONDS = 300

SIGN_IN_ERRORS = {
    "invalid": _l("Wrong username or password."),
    "throttled": _l(
        "Too many failed sign-ins for this account: please wait %(seconds)d seconds before "
        "trying again."
    ),
    "suspended": _l("Your district is suspended; sign-in is not possible at present."),
    "inactive": _l("This account is deactivated. Please contact your district lead."),
}


#: How fresh the idle clock in the session cookie is kept (see `idle_timeout`).
SEEN_RESOLUTION_SECONDS = 60


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.session_protection = "strong"

    # Made once: a statement built per request costs its cache key walk every time
    # (SQLAlchemy keeps the key on the statement object; `Session.get` builds a new one).
    user_by_id = (
        sa.select(User)
        .options(sa_orm.lazyload(User.department))
        .where(User.id == sa.bindparam("user_id"))
    )

    @login_manager.user_loader
    def load_user(user_key: str) -> User | None:
        try:
            raw_id, version = user_key.split(":")
            import uuid

            # The department is loaded once the district is in scope (portal.web): loaded
            # here, before it, row-level security hides the row on PostgreSQL and the join
            # reads every district's departments.
            user_id = uuid.UUID(raw_id)
            user = db.session.execute(user_by_id, {"user_id": user_id}).scalar_one_or_none()
        except (ValueError, TypeError):
            return None
        if user is None or str(user.session_version) != version or not user.active:
            return None
        if user.department_id is None:  # no department: nothing to load later
            sa_orm.attributes.set_committed_value(user, "department", None)
        return user

    @app.errorhandler(HashingBusy)
    def hashing_busy(error: HashingBusy) -> Any:
        """A password check met a full hashing queue (sign-in storm): try again shortly."""
        db.session.rollback()
        page = render_template("error.html", status=503, message=str(error.message))
        return page, 503, {"Retry-After": str(error.retry_after)}

    @app.before_request
    def idle_timeout() -> Any:
        """Sessions end after PERMANENT_SESSION_LIFETIME without a request."""
        if not current_user.is_authenticated:
            return None
        if not session.permanent:  # set once: setting it marks the session changed
            session.permanent = True
        now = int(time.time())
        last = session.get("seen", now)
        limit = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if now - last > limit:
            logout_user()
            session.clear()
            flash(_("You were signed out after a period of inactivity."), "info")
            return redirect(url_for("auth.login"))
        if now - last >= SEEN_RESOLUTION_SECONDS or "seen" not in session:
            # Written at most once a minute: an unchanged session is not re-signed and
            # re-sent on every page (the idle limit is counted in minutes anyway).
            session["seen"] = now
        if current_user.must_change_password and request.endpoint not in (
            "auth.change_password",
            "auth.logout",
            "static",
        ):
            return redirect(url_for("auth.change_password"))
        return None


def _safe_next(target: str | None) -> str | None:
    return safe_target(target, request.host)


#: Sent by the sign-in page's script (portal/static/signin.js), which keeps the form and
#: sends it again by itself after a refusal: it needs no page, only when to come back.
SCRIPT_HEADER = "X-Portal-Sign-In"


def _busy_answer(form: LoginForm, busy: HashingBusy) -> Any:
    """503 + Retry-After for a sign-in refused in a rush. Without script, the form comes
    back with the username kept (a password is never sent back) and the message; the
    script gets the message alone and tries again after Retry-After."""
    db.session.rollback()
    headers = {"Retry-After": str(busy.retry_after)}
    if request.headers.get(SCRIPT_HEADER) == "script":
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return str(busy.message), 503, headers
    page = render_template("auth/login.html", form=form, error=str(busy.message), busy=True)
    return page, 503, headers


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login() -> Any:

    if current_user.is_authenticated:  # also where the page's script lands once signed in
        return redirect(_safe_next(request.args.get("next")) or home_for(current_user))
    form = LoginForm()
    if request.method == "POST" and passwords.queue_full():
        # A rush, and this worker's threads for passwords are taken: say so before even
        # the form's checks, so refusals cost the page views next to nothing.
        return _busy_answer(form, passwords.busy())
    error = None
    throttled = False
    if form.validate_on_submit():
        try:
            result = services.sign_in(
                form.username.data or "", form.password.data or "", request.remote_addr or ""
            )
        except HashingBusy as busy:  # a sign-in storm: come back in a moment
            return _busy_answer(form, busy)
        if result.user is not None:
            session.clear()  # regenerate: nothing from before sign-in survives
            login_user(result.user)
            session["seen"] = int(time.time())
            session["reauth_at"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")) or home_for(result.user))
        error = str(SIGN_IN_ERRORS[result.error or "invalid"]) % {"seconds": result.wait}
        throttled = result.error == "throttled"
    elif request.method == "POST":
        error = _("Please fill in both fields.")
    status = 200 if error is None else 401 if request.method == "POST" else 200
    if throttled:
        status = 429
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    operations.sign_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current_password.data or ""):
            form.current_password.errors.append(_("The current password is wrong."))
            return render_template("auth/change_password.html", form=form), 400
        new = form.new_password.data or ""
        outcome = attempt(lambda: operations.change_password(user, new), form)
        if not outcome.ok:
            return render_template("auth/change_password.html", form=form), outcome.status
        login_user(user)  # the session version changed: re-issue the cookie
        flash(_("Your password has been changed."), "success")

        return redirect(home_for(user))
    return render_template("auth/change_password.html", form=form)


@bp.post("/account/locale")
@login_required
def set_locale() -> Any:
    form = LocaleForm()
    if form.validate_on_submit():
        operations.set_locale(current_user._get_current_object(), form.locale.data or "")
    return redirect(_safe_next(request.referrer) or url_for("index"))


def recently_authenticated() -> bool:
    return int(time.time()) - int(session.get("reauth_at", 0)) < REAUTH_SECONDS


@bp.route("/account/reauth", methods=["GET", "POST"])
@login_required
def reauth() -> Any:
    """Sensitive actions (token creation, role changes) ask for the password again."""
    form = ReauthForm()
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data or ""):
            session["reauth_at"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.tokens"))
        form.password.errors.append(_("The password is wrong."))
    return render_template("auth/reauth.html", form=form)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    form = TokenForm()
    new_secret = None
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not recently_authenticated():
            return redirect(url_for("auth.reauth", next=url_for("auth.tokens")))
        expires = form.expires_on.data
        if expires is not None and expires <= clock.today():
            form.expires_on.errors.append(_("The expiry date must be in the future."))
        else:
            expires_at = dt.datetime.combine(expires, dt.time()) if expires else None
            _token, new_secret = services.create_token(user, form.name.data or "", expires_at)
    rows = (
        db.session.execute(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc())
        )
        .scalars()
        .all()
    )
    return render_template("auth/tokens.html", form=form, tokens=rows, new_secret=new_secret)


@bp.post("/account/tokens/<uuid:token_id>/revoke")
@login_required
def revoke_token(token_id: Any) -> Any:
    user = current_user._get_current_object()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    if token.revoked_at is None:
        services.revoke_token(user, token)
        flash(_("The token was revoked."), "success")
    return redirect(url_for("auth.tokens"))


__all__ = ["bp", "init_login", "trail"]
