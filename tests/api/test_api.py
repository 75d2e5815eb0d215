"""The JSON API: tokens, scoping, JSON errors (more in test_access_matrix)."""

from __future__ import annotations

from tests.conftest import new_api_token


def test_token_gives_scoped_json(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    token = new_api_token(b)
    api = b.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    me = api.get("/api/v1/me", headers=headers).get_json()
    assert me["username"] == "kaifeng-lead" and me["tenant"] == "kaifeng"
    depts = api.get("/api/v1/departments?per_page=5", headers=headers).get_json()
    assert depts["total"] >= 10 and len(depts["items"]) == 5
    assert all(
        "开封" in d["name"] or "县" in d["name"] or "团" in d["name"] or "中共" in d["name"]
        for d in depts["items"]
    )


def test_api_errors_are_json(app) -> None:  # type: ignore[no-untyped-def]
    api = app.test_client()
    r = api.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthenticated"
    r = api.get("/api/v1/me", headers={"Authorization": "Bearer pat_nope"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"


def test_expired_tokens_are_refused(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    import sqlalchemy as sa

    from portal.auth.models import ApiToken
    from portal.extensions import db
    from portal.tenancy import scope

    b = login_as("kaifeng-lead", fresh_app)
    # a past expiry date is refused in the form, with the field named
    page = b.post("/account/tokens", {"name": "old", "expires_on": "2020-01-01"})
    assert "到期日期必须晚于今天" in page.get_data(as_text=True) or "future" in page.get_data(
        as_text=True
    )
    secret = new_api_token(b)
    api = fresh_app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    with fresh_app.app_context(), scope.cross_tenant("test: the token's day has passed"):
        token = db.session.execute(
            sa.select(ApiToken).where(ApiToken.prefix == secret[:12])
        ).scalar_one()
        token.expires_at = dt.datetime(2020, 1, 1)
        db.session.commit()
    r = api.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
