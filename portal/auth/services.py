"""Sign-in (with its throttle) and personal access tokens (shared by UI, API, CLI).

Account changes (create, role, activation, passwords, sessions) are in
`portal.auth.operations`. Nothing here commits: the request does, once — except the
record of a refused sign-in, which is written in its own short transaction because the
refused request itself is rolled back (its answer is 401) and the record must outlive it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from portal.audit import trail
from portal.auth import throttle
from portal.auth.models import ApiToken, LoginAttempt, User
from portal.auth.operations import account_scope
from portal.auth.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    refuse_if_queue_full,
    verify_password,
)
from portal.db import utcnow
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import TenantStatus


@dataclass
class SignInResult:
    user: User | None
    error: str | None  # "invalid", "throttled", "suspended", "inactive"
    wait: int = 0  # seconds before the next attempt is considered (throttled)


def _record_refusal(user: User | None, username: str, ip: str, reason: str, wait: int) -> None:
    """The failed attempt and its audit event, in a transaction of their own."""
    tenant_id = user.tenant_id if user is not None else None
    chain = tenant_id or trail.PLATFORM_CHAIN
    user_id = user.id if user is not None else ""
    db.session.rollback()  # only reads so far; frees SQLite's write lock for the record
    with scope.tenant_scope(tenant_id) if tenant_id else scope.cross_tenant("sign-in refused"):
        record = db.session.session_factory()
        try:
            record.add(LoginAttempt(username=username[:80], ip=ip[:64], success=False))
            tried = {"username_tried": username[:80]}
            events = [("login_failed", {**tried, "reason": reason})]
            if wait:
                events.append(("lockout", {**tried, "wait_seconds": wait}))
            for action, data in events:
                trail.record(
                    record,
                    action,
                    tenant_id=chain,
                    entity_type="User",
                    entity_id=user_id,
                    summary=username[:80],
                    data=data,
                )
            record.commit()
        finally:
            record.close()


def sign_in(username: str, password: str, ip: str) -> SignInResult:
    """Check credentials, within the throttle (see `portal.auth.throttle`).

    While an account is throttled for this address the password is not even checked:
    the holder is told how long to wait. Unknown usernames cost the same as known ones."""
    refuse_if_queue_full()  # a sign-in storm: say so before any database work
    username = username.strip()
    now = throttle.state(username, ip)
    if now.throttled:
        return SignInResult(None, "throttled", now.wait)
    user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one_or_none()

    def fail(error: str) -> SignInResult:
        wait = 0
        if error == "invalid":
            wait = throttle.next_delay(now.pair_failures + 1, now.account_failures + 1)
        _record_refusal(user, username, ip, error, wait)
        return SignInResult(None, "throttled" if wait else error, wait)

    if user is None:
        verify_password(DUMMY_HASH, password)
        return fail("invalid")
    if not verify_password(user.password_hash, password):
        return fail("invalid")
    if not user.active:
        return fail("inactive")
    if user.tenant is not None and user.tenant.status != TenantStatus.active:
        return fail("suspended")
    signed_in = trail.with_actor(
        trail.current_actor(), id=user.id, name=user.username, role=user.role.value
    )
    with account_scope(user), trail.acting_as(signed_in):  # the login event's actor is the user
        db.session.add(LoginAttempt(username=username, ip=ip[:64], success=True))
        user.last_login_at = utcnow()
        if needs_rehash(user.password_hash):  # made with older parameters: bring it up to date
            user.password_hash = hash_password(password)
        trail.record_on(
            user,
            "login",
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
            summary=username,
        )
        db.session.flush()
    return SignInResult(user, None)


TOKEN_PREFIX = "pat_"


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, expires_at: dt.datetime | None) -> tuple[ApiToken, str]:
    """Returns the token row and its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with account_scope(user):
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
        trail.record_on(
            token,
            "token_created",
            summary=name[:80],
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.flush()
    return token, secret


def revoke_token(user: User, token: ApiToken) -> None:
    with account_scope(user):
        token.revoked_at = utcnow()
        trail.record_on(
            token,
            "token_revoked",
            summary=token.name,
            tenant_id=user.tenant_id or trail.PLATFORM_CHAIN,
        )
        db.session.flush()


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
