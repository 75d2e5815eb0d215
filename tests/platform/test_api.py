"""Operator endpoints of the JSON API (issue 7)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import ROOT
from tests.platform.helpers import lead_signs_in
from tests.platform.test_policy_mistakes import broken_policy


def _token(app, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.auth.services import create_token
    from portal.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        _row, secret = create_token(user, "test", None)
        db.session.commit()  # services never commit
    return {"Authorization": f"Bearer {secret}"}


def test_operator_api_lists_onboards_and_suspends(fresh_app) -> None:  # type: ignore[no-untyped-def]
    api = fresh_app.test_client()
    headers = _token(fresh_app, "operator")
    r = api.get("/api/v1/platform/tenants?per_page=2", headers=headers)
    body = r.get_json()
    assert r.status_code == 200 and body["total"] == 4 and len(body["items"]) == 2
    assert {"status", "departments", "users", "completion", "policy_valid_until"} <= set(
        body["items"][0]
    )
    text = (ROOT / "tests" / "fixtures" / "dayi.yaml").read_text(encoding="utf-8")
    r = api.post("/api/v1/platform/tenants", json={"policy": text}, headers=headers)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["tenant"]["slug"] == "dayi" and created["duties"] > 0
    lead_signs_in(fresh_app, "dayi", created["lead_username"], created["temporary_password"])
    r = api.post("/api/v1/platform/tenants", json={"policy": text}, headers=headers)
    assert r.status_code == 422
    assert any(p["path"] == "tenant.slug" for p in r.get_json()["error"]["problems"])
    new = {"policy": text, "name": "大邑二县", "slug": "dayi-2", "level": "县级市"}
    r = api.post("/api/v1/platform/tenants", json=new, headers=headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["tenant"]["name"] == "大邑二县"
    r = api.post("/api/v1/platform/tenants", json={"policy": broken_policy()}, headers=headers)
    assert r.status_code == 422 and len(r.get_json()["error"]["problems"]) == 10
    r = api.post(
        "/api/v1/platform/tenants/dayi/status", json={"action": "suspend"}, headers=headers
    )
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    r = api.post(
        "/api/v1/platform/tenants/dayi/status", json={"action": "activate"}, headers=headers
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "lifecycle"
    assert api.get("/api/v1/platform/tenants/nowhere", headers=headers).status_code == 404


def test_district_tokens_cannot_use_operator_endpoints(fresh_app) -> None:  # type: ignore[no-untyped-def]
    api = fresh_app.test_client()
    headers = _token(fresh_app, "kaifeng-lead")
    assert api.get("/api/v1/platform/tenants", headers=headers).status_code == 403
    r = api.post(
        "/api/v1/platform/tenants/kaifeng/status", json={"action": "suspend"}, headers=headers
    )
    assert r.status_code == 403
