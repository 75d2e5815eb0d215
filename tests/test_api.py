"""The JSON API: tokens, scoping, JSON errors (more in test_access_matrix)."""

from __future__ import annotations

import re


def _token(b) -> str:  # type: ignore[no-untyped-def]
    page = b.post("/account/tokens", {"name": "script"}).get_data(as_text=True)
    match = re.search(r'id="new-token">([^<]+)<', page)
    assert match, page[:2000]
    return match.group(1)


def test_token_gives_scoped_json(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    token = _token(b)
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
