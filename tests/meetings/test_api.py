"""The joint-meeting JSON API: same scoping as the UI, JSON errors, writes with row_version."""

from __future__ import annotations

from tests.conftest import Browser, new_api_token


def _client(app, username: str):  # type: ignore[no-untyped-def]
    b = Browser(app)
    b.login(username)
    token = new_api_token(b)
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_api_scoping(app) -> None:  # type: ignore[no-untyped-def]
    api, lead = _client(app, "kaifeng-lead")
    meetings = api.get("/api/v1/meetings?kind=regular", headers=lead).get_json()
    assert meetings["total"] == 1
    mid = meetings["items"][0]["id"]
    detail = api.get(f"/api/v1/meetings/{mid}", headers=lead).get_json()
    assert detail["minutes"]["status"] == "finalised" and len(detail["decisions"]) == 3
    agenda = api.get(f"/api/v1/meetings/{mid}/agenda", headers=lead).get_json()["items"]
    assert [i["position"] for i in agenda] == list(range(1, len(agenda) + 1))
    reports = api.get(f"/api/v1/meetings/{mid}/reports", headers=lead).get_json()["items"]
    all_report_ids = {r["report"]["id"] for r in reports if r["report"]}
    assert len(all_report_ids) > 3
    lead_items = api.get("/api/v1/action-items?per_page=100", headers=lead).get_json()
    assert len({i["department"]["id"] for i in lead_items["items"]}) > 1

    api, officer = _client(app, "kaifeng-civil-affairs")
    own = api.get(f"/api/v1/meetings/{mid}/reports", headers=officer).get_json()["items"]
    assert len(own) == 1 and own[0]["department"]["name"] == "开封市民政局"
    own_id = own[0]["report"]["id"]
    for rid in all_report_ids - {own_id}:
        r = api.get(f"/api/v1/reports/{rid}", headers=officer)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    items = api.get("/api/v1/action-items?per_page=100", headers=officer).get_json()["items"]
    assert items and {i["department"]["name"] for i in items} == {"开封市民政局"}
    other_items = {i["id"] for i in lead_items["items"]} - {i["id"] for i in items}
    assert api.get(f"/api/v1/action-items/{other_items.pop()}", headers=officer).status_code == 404

    api, other = _client(app, "jiading-lead")
    assert api.get(f"/api/v1/meetings/{mid}", headers=other).status_code == 404
    assert api.get(f"/api/v1/reports/{own_id}", headers=other).status_code == 404
    r = api.post("/api/v1/meetings", headers=other, json={"kind": "regular"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid"

    api, auditor = _client(app, "kaifeng-auditor")
    assert api.get(f"/api/v1/meetings/{mid}", headers=auditor).status_code == 200
    r = api.post(f"/api/v1/action-items/{items[0]['id']}", headers=auditor, json={"note": "x"})
    assert r.status_code == 403


def test_api_officer_closes_action_item(fresh_app) -> None:  # type: ignore[no-untyped-def]
    api, officer = _client(fresh_app, "kaifeng-civil-affairs")
    items = api.get("/api/v1/action-items?status=open", headers=officer).get_json()["items"]
    item = items[0]
    r = api.post(
        f"/api/v1/action-items/{item['id']}",
        headers=officer,
        json={"close": True, "row_version": item["row_version"]},
    )
    assert r.status_code == 400 and "note" in r.get_json()["error"]["message"]
    # the stale-version check is required: an update that does not say its version is refused
    r = api.post(
        f"/api/v1/action-items/{item['id']}", headers=officer, json={"close": True, "note": "好"}
    )
    assert r.status_code == 400 and r.get_json()["error"]["message"].startswith("row_version")
    r = api.post(
        f"/api/v1/action-items/{item['id']}",
        headers=officer,
        json={"close": True, "note": "已形成专题报告", "row_version": item["row_version"] + 5},
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    r = api.post(
        f"/api/v1/action-items/{item['id']}",
        headers=officer,
        json={"close": True, "note": "已形成专题报告", "row_version": item["row_version"]},
    )
    assert r.status_code == 200 and r.get_json()["status"] == "done"


def test_api_create_is_idempotent_and_draft_agenda_is_the_leads(fresh_app) -> None:  # type: ignore[no-untyped-def]
    api, lead = _client(fresh_app, "kaifeng-lead")
    body = {"kind": "ad_hoc", "title": "接口双击测试", "date": "2027-02-10"}
    headers = lead | {"Idempotency-Key": "k-20270210-1"}
    first = api.post("/api/v1/meetings", json=body, headers=headers)
    second = api.post("/api/v1/meetings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    mid = first.get_json()["id"]
    assert api.get(f"/api/v1/meetings/{mid}/agenda", headers=lead).get_json()["items"]
    _api, officer = _client(fresh_app, "kaifeng-civil-affairs")
    shown = api.get(f"/api/v1/meetings/{mid}/agenda", headers=officer).get_json()
    assert shown == {"circulated": False, "items": []}
