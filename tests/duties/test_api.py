"""Duties over the JSON API: same scoping and rules as the UI."""

from __future__ import annotations

import base64

from portal.kernel.clock import today
from tests.conftest import new_api_token


def _client(login_as, username: str, app=None):  # type: ignore[no-untyped-def]
    b = login_as(username, app)
    headers = {"Authorization": f"Bearer {new_api_token(b)}"}
    return b.app.test_client(), headers


def test_api_duty_cycle(fresh_app, login_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["UPLOAD_DIR"] = str(tmp_path)
    api, officer = _client(login_as, "kaifeng-civil-affairs", fresh_app)
    listing = api.get("/api/v1/duties?status=not_started", headers=officer).get_json()
    assert listing["total"] > 0
    assert {d["department"]["name"] for d in listing["items"]} == {"开封市民政局"}
    duty = listing["items"][0]
    url = f"/api/v1/duties/{duty['id']}"
    day = min(today().isoformat(), duty["due_date"])

    r = api.post(
        url + "/entries",
        json={"work_date": day, "narrative": "", "row_version": duty["row_version"]},
        headers=officer,
    )
    assert r.status_code == 400 and "请填写所做的工作" in r.get_json()["error"]["message"]
    r = api.post(
        url + "/entries",
        json={
            "work_date": day,
            "narrative": "发放特别扶助金",
            "families_reached": 5,
            "amount_paid": "7150.00",
            "row_version": duty["row_version"],
            "evidence": [
                {"filename": "清单.pdf", "content_base64": base64.b64encode(b"%PDF-1 x").decode()}
            ],
        },
        headers=officer,
    )
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert entry["evidence"][0]["size"] == 8 and len(entry["evidence"][0]["sha256"]) == 64

    current = api.get(url, headers=officer).get_json()
    assert current["status"] == "in_progress" and len(current["entries"]) == 1
    stale = {"assessment": "fully", "statement": "ok", "row_version": current["row_version"] - 1}
    r = api.post(url + "/sign-off", json=stale, headers=officer)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    r = api.post(
        url + "/sign-off",
        json={"assessment": "fully", "statement": "已落实", "row_version": current["row_version"]},
        headers=officer,
    )
    assert r.status_code == 200 and r.get_json()["status"] == "submitted"

    signed = api.get(url, headers=officer).get_json()["row_version"]
    accept = {"decision": "accept", "row_version": signed}
    r = api.post(url + "/review", json=accept, headers=officer)
    assert r.status_code == 403
    _, auditor = _client(login_as, "kaifeng-auditor", fresh_app)
    assert api.get(url, headers=auditor).status_code == 200
    assert api.post(url + "/review", json=accept, headers=auditor).status_code == 403
    _, lead = _client(login_as, "kaifeng-lead", fresh_app)
    r = api.post(url + "/review", json={"decision": "return", "row_version": signed}, headers=lead)
    assert r.status_code == 400
    r = api.post(url + "/review", json=accept, headers=lead)
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"

    # another department's officer: 404, never 403
    _, other = _client(login_as, "kaifeng-medical-insurance", fresh_app)
    assert api.get(url, headers=other).status_code == 404
    assert api.post(url + "/entries", json={}, headers=other).status_code == 404
    _, zd = _client(login_as, "zhangdian-lead", fresh_app)
    assert api.get(url, headers=zd).status_code == 404
    assert api.get("/api/v1/duties?period=bogus", headers=zd).status_code == 400
