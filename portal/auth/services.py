"""Sign-in, lockout, password change and personal access tokens (shared by UI, API, CLI)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal.audit import trail
from portal.auth.models import ApiToken, LoginAttempt, Role, User
from portal.auth.passwords import DUMMY_HASH, hash_password, verify_password
from portal.db import utcnow
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import TenantStatus


@dataclass
class SignInResult:
    user: User | None
    error: str | None  # "invalid", "locked", "suspended", "inactive"


def _recent_failures(username: str) -> int:
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    since = utcnow() - window
    last_success = db.session.execute(
        sa.select(sa.func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    ).scalar()
    if last_success and last_success > since:
        since = last_success
    return db.session.execute(
        sa.select(sa.func.count()).where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > since,
        )
    ).scalar_one()


def _chain_scope(user: User | None):  # type: ignore[no-untyped-def]
    if user is not None and user.tenant_id is not None:
        return scope.tenant_scope(user.tenant_id)
    return scope.cross_tenant("sign-in event on the platform chain")


def sign_in(username: str, password: str, ip: str) -> SignInResult:
    """Check credentials; count failures per username (known or not) and lock after too many."""
    username = username.strip()
    user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one_or_none()
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    failures = _recent_failures(username)
    chain = user.tenant_id if user and user.tenant_id else trail.PLATFORM_CHAIN

    def fail(error: str, action: str = "login_failed") -> SignInResult:
        with _chain_scope(user):
            db.session.add(LoginAttempt(username=username[:80], ip=ip, success=False))
            trail.record(
                db.session,
                action,
                tenant_id=chain,
                entity_type="User",
                entity_id=user.id if user else "",
                summary=username[:80],
                data={"username_tried": username[:80], "reason": error},
            )
            if action == "login_failed" and failures + 1 >= max_failures:
                trail.record(
                    db.session,
                    "lockout",
                    tenant_id=chain,
                    entity_type="User",
                    entity_id=user.id if user else "",
                    summary=username[:80],
                    data={"username_tried": username[:80]},
                )
            db.session.commit()
        return SignInResult(None, error)

    if failures >= max_failures:
        return fail("locked", "login_refused_locked")
    if user is None:
        verify_password(DUMMY_HASH, password)
        return fail("locked" if failures + 1 >= max_failures else "invalid")
    if not verify_password(user.password_hash, password):
        return fail("locked" if failures + 1 >= max_failures else "invalid")
    if not user.active:
        return fail("inactive")
    if user.tenant is not None and user.tenant.status != TenantStatus.active:
        return fail("suspended")
    signed_in = trail.with_actor(
        trail.current_actor(), id=user.id, name=user.username, role=user.role.value
    )
    with _chain_scope(user), trail.acting_as(signed_in):  # the login event's actor is the user
        db.session.add(LoginAttempt(username=username, ip=ip, success=True))
        user.last_login_at = utcnow()
        trail.record(
            db.session,
            "login",
            tenant_id=chain,
            entity_type="User",
            entity_id=user.id,
            summary=username,
        )
        db.session.commit()
    return SignInResult(user, None)


def sign_out(user: User) -> None:
    """Bump the session version so the old session cookie can never be replayed."""
    with _chain_scope(user):
        user.session_version += 1
        trail.record(
            db.session,
            "logout",
            entity_type="User",
            entity_id=user.id,
            summary=user.username,
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.commit()


def change_password(user: User, new_password: str) -> None:
    with _chain_scope(user):
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        user.session_version += 1
        trail.record(
            db.session,
            "password_changed",
            entity_type="User",
            entity_id=user.id,
            summary=user.username,
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.commit()


TOKEN_PREFIX = "pat_"


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, expires_at: dt.datetime | None) -> tuple[ApiToken, str]:
    """Returns the token row and its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _chain_scope(user):
        token = ApiToken(
            user_id=user.id,
            tenant_id=user.tenant_id,
            name=name[:80],
            prefix=secret[:12],
            token_hash=_token_digest(secret),
            expires_at=expires_at,
        )
        db.session.add(token)
        db.session.flush()
        trail.record(
            db.session,
            "token_created",
            entity_type="ApiToken",
            entity_id=token.id,
            summary=name[:80],
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.commit()
    return token, secret


def revoke_token(user: User, token: ApiToken) -> None:
    with _chain_scope(user):
        token.revoked_at = utcnow()
        trail.record(
            db.session,
            "token_revoked",
            entity_type="ApiToken",
            entity_id=token.id,
            summary=token.name,
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.commit()


def user_for_token(secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.execute(
        sa.select(ApiToken).filter_by(token_hash=_token_digest(secret))
    ).scalar_one_or_none()
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = token.user
    if not user.active or (user.tenant and user.tenant.status != TenantStatus.active):
        return None
    return user


def create_user(
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    tenant_id=None,  # type: ignore[no-untyped-def]
    department_id=None,  # type: ignore[no-untyped-def]
    must_change_password: bool = False,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        tenant_id=tenant_id,
        department_id=department_id,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    return user


def end_sessions(user: User) -> None:
    """Every session of the user ends: the cookies carry the old session version, which
    the user loader refuses. The caller audits the reason and commits (force sign-out)."""
    user.session_version += 1
