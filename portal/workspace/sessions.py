"""Session tracking for 在线用户 and the force sign-out.

A row is written when a user signs in (Flask-Login's `user_logged_in`), refreshed by a
heartbeat at most once a minute per session, and closed at sign-out. Signing out (or a
force sign-out) bumps the user's session version, which ends every session of that
user, so every open row of the user is closed; an idle time-out closes only its own.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_in, user_logged_out

from portal.audit import trail
from portal.auth import operations as accounts
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import signals
from portal.kernel.grants import can
from portal.kernel.rules import NotAllowed, NotFound
from portal.tenancy import scope
from portal.workspace.models import UserSession

HEARTBEAT_SECONDS = 60
SID = "sid"
SEEN = "sid_seen"


def _tracking_scope(user: Any):  # type: ignore[no-untyped-def]
    """Bookkeeping rows are written outside the request's (possibly read-only) scope."""
    if getattr(user, "tenant_id", None):
        return scope.tenant_scope(user.tenant_id)
    return scope.cross_tenant("session tracking")


def _is_api() -> bool:
    """API calls sign in per request with a bearer token: they are not browser sessions."""
    return request.path.startswith("/api/")


def _start(sender: Any, user: Any, **_: Any) -> None:
    if _is_api():
        return
    if sender is not None and request.endpoint not in ("auth.login", None):
        # a cookie re-issued after a password change: the user's other sessions ended
        with _tracking_scope(user):
            _close_open(user.id, "password_changed")
    row = UserSession(
        user_id=user.id,
        tenant_id=user.tenant_id,
        ip=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:255],
    )
    with _tracking_scope(user):
        db.session.add(row)
        db.session.flush()
    session[SID] = str(row.id)
    session[SEEN] = int(time.time())


def _close_open(user_id: uuid.UUID, reason: str, only: uuid.UUID | None = None) -> int:
    stmt = sa.select(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if only is not None:
        stmt = stmt.where(UserSession.id == only)
    rows = list(db.session.execute(stmt).scalars())
    now = utcnow()
    for row in rows:
        row.ended_at = now
        row.end_reason = reason
    return len(rows)


def _current_sid() -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session.get(SID, "")))
    except ValueError:
        return None


def _stop(sender: Any, user: Any, **_: Any) -> None:
    """Sign-out ends all the user's sessions (the version bump); an idle time-out only this one."""
    if getattr(user, "id", None) is None or _is_api():
        return
    everywhere = request.endpoint == "auth.logout"
    with _tracking_scope(user):
        _close_open(
            user.id, "signed_out" if everywhere else "idle", None if everywhere else _current_sid()
        )
        db.session.flush()


def heartbeat() -> None:
    """At most once a minute per session: the row's last_seen_at (one UPDATE)."""
    if not current_user.is_authenticated or request.endpoint == "static" or _is_api():
        return
    now = int(time.time())
    if now - int(session.get(SEEN, 0) or 0) < HEARTBEAT_SECONDS:
        return
    session[SEEN] = now
    user = current_user._get_current_object()
    sid = _current_sid()
    with _tracking_scope(user):
        row = db.session.get(UserSession, sid) if sid else None
        if row is None or row.user_id != user.id or row.ended_at is not None:
            _start(None, user)  # a session from before tracking, or a closed row
        else:
            row.last_seen_at = utcnow()
            db.session.flush()


# --- 在线用户 ------------------------------------------------------------------------------


def online_cutoff() -> dt.datetime:
    return utcnow() - current_app.config["PERMANENT_SESSION_LIFETIME"]


def online_sessions(limit: int = 500) -> list[UserSession]:
    """Open sessions seen within the idle time-out; a lead's scope shows their district only."""
    return list(
        db.session.execute(
            sa.select(UserSession)
            .where(UserSession.ended_at.is_(None), UserSession.last_seen_at >= online_cutoff())
            .order_by(UserSession.last_seen_at.desc())
            .limit(limit)
        )
        .unique()
        .scalars()
    )


@signals.platform_figures.connect
def _platform_figures(sender: Any, **_: Any) -> dict[str, int]:
    """Users online across the platform, for the operator's dashboard (one COUNT)."""
    n = db.session.execute(
        sa.select(sa.func.count(sa.distinct(UserSession.user_id))).where(
            UserSession.ended_at.is_(None), UserSession.last_seen_at >= online_cutoff()
        )
    ).scalar_one()
    return {"users_online": int(n)}


def force_sign_out(actor: Any, user_id: Any, *, platform: bool = False) -> int:
    """End every session of a user (bumps their session version through the accounts
    service) and record why. A lead reaches only their district's users (the scoping
    hook); nobody signs themselves out this way."""
    if not can(actor, "platform.sessions" if platform else "session.manage"):
        raise NotAllowed(_l("You do not have permission to do this."))
    target = scope.get_scoped(User, user_id)
    if target is None or (not platform and target.tenant_id != getattr(actor, "tenant_id", None)):
        raise NotFound(_l("The user was not found."))
    if target.id == getattr(actor, "id", None):
        raise NotAllowed(_l("Use 'Sign out' to end your own session."))
    chain = target.tenant_id or trail.PLATFORM_CHAIN
    with (
        scope.tenant_scope(target.tenant_id)
        if target.tenant_id
        else scope.cross_tenant("force sign-out of an operator")
    ):
        accounts.revoke_sessions(target)
        closed = _close_open(target.id, "forced")
        trail.record_on(
            target,
            "session.force_sign_out",
            tenant_id=chain,
            summary=target.username,
            data={"sessions": closed},
        )
        db.session.flush()
    return closed


def init_app(app: Flask) -> None:
    user_logged_in.connect(_start, app)
    user_logged_out.connect(_stop, app)
    app.before_request(heartbeat)
