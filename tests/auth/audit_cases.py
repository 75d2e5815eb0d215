"""Audit coverage cases of the auth domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit.coverage import (
    SECRETS,
    Ctx,
    Exercise,
    Expect,
    Listed,
    mark,
    signed_in,
)
from tests.conftest import DEMO_PASSWORD, Browser


def _api_token(ctx: Ctx) -> Any:
    from portal.auth.models import ApiToken

    user = ctx.first("User")
    return ApiToken(
        user_id=user.id,
        tenant_id=user.tenant_id,
        name="coverage",
        prefix="pat_cover",
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
    )


def _login(app: Any) -> list[Expect]:
    Browser(app).login("zhangdian-lead", "wrong-password-1")
    Browser(app).login("zhangdian-lead")
    return [
        Expect("login_failed", "User", "zhangdian", actor="anonymous"),
        Expect("login", "User", "zhangdian", actor="zhangdian-lead"),
        Expect("update", "User", "zhangdian", actor="zhangdian-lead", changed={"last_login_at"}),
    ]


def _logout(app: Any) -> list[Expect]:
    b = signed_in(app, "zhangdian-finance")
    mark(app)
    assert b.post("/logout", csrf_from="/t/zhangdian/").status_code == 302
    return [
        Expect("logout", "User", "zhangdian"),
        Expect("update", "User", "zhangdian", changed={"session_version"}),
    ]


def _change_password(app: Any) -> list[Expect]:
    b = signed_in(app, "zhangdian-auditor")
    mark(app)
    new = "Coverage-pass-2026!"
    r = b.post(
        "/account/password",
        {"current_password": DEMO_PASSWORD, "new_password": new, "confirm": new},
    )
    assert r.status_code == 302
    return [
        Expect("password_changed", "User", "zhangdian"),
        Expect(
            "update",
            "User",
            "zhangdian",
            changed={"password_hash", "password_history", "session_version"},
        ),
    ]


def _set_locale(app: Any) -> list[Expect]:
    b = signed_in(app, "zhangdian-lead")
    mark(app)
    b.post("/account/locale", {"locale": "en"}, csrf_from="/t/zhangdian/")
    return [Expect("update", "User", "zhangdian", changed={"locale"})]


def _create_token(app: Any) -> list[Expect]:
    b = signed_in(app, "zhangdian-lead")
    mark(app)
    r = b.post("/account/tokens", {"name": "coverage"})
    secret = re.search(r"pat_[A-Za-z0-9_\-]{20,}", r.get_data(as_text=True)).group(0)
    SECRETS.append(secret)
    return [
        Expect("create", "ApiToken", "zhangdian"),
        Expect("token_created", "ApiToken", "zhangdian"),
    ]


def _revoke_token(app: Any) -> list[Expect]:
    from portal.auth.models import ApiToken
    from portal.extensions import db
    from portal.tenancy import scope

    b = signed_in(app, "zhangdian-lead")
    b.post("/account/tokens", {"name": "to revoke"})
    with app.app_context(), scope.cross_tenant("test"):
        token = db.session.execute(
            sa.select(ApiToken).filter_by(name="to revoke", revoked_at=None)
        ).scalar_one()
        token_id = token.id
    mark(app)
    b.post(f"/account/tokens/{token_id}/revoke", csrf_from="/account/tokens")
    return [
        Expect("update", "ApiToken", "zhangdian", entity_id=str(token_id), changed={"revoked_at"}),
        Expect("token_revoked", "ApiToken", "zhangdian", entity_id=str(token_id)),
    ]


#: State-changing routes and API endpoints of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "auth.login": Exercise(_login),
    "auth.logout": Exercise(_logout),
    "auth.change_password": Exercise(_change_password),
    "auth.set_locale": Exercise(_set_locale),
    "auth.tokens": Exercise(_create_token),
    "auth.revoke_token": Exercise(_revoke_token),
    "auth.reauth": Listed(
        "no event: re-entering the password only refreshes the session's re-auth time "
        "(a wrong password changes nothing)"
    ),
}

#: Factories for models the generic clone cannot make.
MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "ApiToken": _api_token,
}

#: Models deliberately not audited, with the reason.
NOT_AUDITED: dict[str, str] = {
    "LoginAttempt": "the sign-in throttle; every attempt is an explicit login/login_failed event",
}
