"""The care JSON API: the token user's scope (a village contact: their households only;
another town's or district's household: 404), care status and records with phones
masked, and recording a visit with the household's row_version (missing 400, stale 409),
errors as JSON in Chinese, the visit audited and counted by the figures."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from tests.care.helpers import district
from tests.register.helpers import bearer, contact_households, households_by_town

API = "/api/v1/care/households"


def test_village_contact_reads_only_their_households(app) -> None:  # type: ignore[no-untyped-def]
    mine = contact_households(app, "kaifeng-village1")
    client = app.test_client()
    headers = bearer(app, "kaifeng-village1")
    r = client.get(f"{API}?per_page=100", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    data = r.get_json()
    assert data["total"] == len(mine) and {i["id"] for i in data["items"]} == {str(h) for h in mine}
    item = data["items"][0]
    assert set(item["status"]) == {
        "contact_ok",
        "no_contact_quarter",
        "festival_overdue",
        "doctor_overdue",
    }
    hid = sorted(mine)[0]
    r = client.get(f"{API}/{hid}", headers=headers)
    body = r.get_json()
    assert r.status_code == 200 and body["contacts"] and "row_version" in body
    text = r.get_data(as_text=True)
    assert re.search(r"1[3-8]\d\*{4}\d{4}", text)  # contact phones masked
    assert not re.search(r"(?<![\w.-])1[3-8]\d{9}(?![\w-])", text)  # (not inside an id)
    r = client.get(f"{API}/{hid}/visits?per_page=5", headers=headers)
    assert r.status_code == 200 and r.get_json()["per_page"] == 5
    # a household of the district that is not theirs, another district's, junk: 404 JSON
    other = next(h for hs in households_by_town(app).values() for h in hs if h not in mine)
    zhangdian = next(iter(households_by_town(app, "zhangdian").values()))[0]
    for bad in (other, zhangdian, "not-a-uuid"):
        r = client.get(f"{API}/{bad}", headers=headers)
        assert r.status_code == 404 and r.is_json, bad
    # no token: 401 JSON in Chinese
    r = client.get(API)
    assert r.status_code == 401 and "令牌" in r.get_json()["error"]["message"]


def test_lead_reads_the_district_and_status_matches_the_drill_down(app) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries

    client = app.test_client()
    r = client.get(f"{API}?per_page=100", headers=bearer(app, "zhangdian-lead"))
    data = r.get_json()
    with district(app, "zhangdian"):
        households = sa.select(sa.func.count()).select_from(
            queries.status_select().order_by(None).subquery()
        )
        from portal.extensions import db

        assert data["total"] == db.session.execute(households).scalar_one() > 100
        short = {str(h.id) for h in queries.households_for("contact_missing", limit=1000)}
    page_short = {i["id"] for i in data["items"] if not i["status"]["contact_ok"]}
    assert page_short <= short and page_short
    # the lead may read but not record a visit: 403 JSON
    r = client.post(
        f"{API}/{data['items'][0]['id']}/visits",
        json={"kind": "phone"},
        headers=bearer(app, "zhangdian-lead"),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_record_a_visit_with_the_households_version(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.care import queries
    from portal.care.models import Visit
    from portal.extensions import db

    mine = sorted(contact_households(fresh_app, "kaifeng-village1"))
    hid = mine[0]
    client = fresh_app.test_client()
    headers = bearer(fresh_app, "kaifeng-village1")
    version = client.get(f"{API}/{hid}", headers=headers).get_json()["row_version"]
    from portal.care import rules

    with fresh_app.app_context():
        today = rules.today().isoformat()
    visit = {"kind": "home", "visited_on": today, "findings": "API 走访，老人身体尚可"}
    # no row_version: 400 naming the field, in Chinese
    r = client.post(f"{API}/{hid}/visits", json=visit, headers=headers)
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["message"].startswith("row_version")
    assert re.search(r"[\u4e00-\u9fff]", error["message"])
    # stale: 409 conflict
    r = client.post(
        f"{API}/{hid}/visits", json={**visit, "row_version": version + 1}, headers=headers
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    # a broken rule: 400 beside its field; not JSON: 400
    r = client.post(
        f"{API}/{hid}/visits",
        json={**visit, "kind": "festival", "row_version": version},
        headers=headers,
    )
    assert r.status_code == 400 and r.get_json()["error"]["message"].startswith("festival")
    r = client.post(f"{API}/{hid}/visits", data="x", headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"
    with district(fresh_app, "kaifeng"):
        unseen = {h.id for h in queries.households_for("no_contact_quarter", limit=10_000)}
    r = client.post(f"{API}/{hid}/visits", json={**visit, "row_version": version}, headers=headers)
    assert r.status_code == 201, r.get_data(as_text=True)
    made = r.get_json()
    assert made["kind"] == "home" and made["visited_on"] == today
    with district(fresh_app, "kaifeng"):
        row = db.session.execute(
            sa.select(Visit).where(Visit.id == uuid.UUID(made["id"]))
        ).scalar_one()
        assert row.findings == "API 走访，老人身体尚可" and row.contact_id is not None
        (event,) = db.session.execute(
            sa.select(AuditEvent).where(
                AuditEvent.entity_type == "Visit", AuditEvent.entity_id == made["id"]
            )
        ).scalars()
        assert event.action == "create" and event.actor_name == "kaifeng-village1"
        # contacted this quarter now: the figure's households no longer hold it
        after = {h.id for h in queries.households_for("no_contact_quarter", limit=10_000)}
        assert after == unseen - {hid}
    # listed first among the household's visits
    r = client.get(f"{API}/{hid}/visits", headers=headers)
    assert r.get_json()["items"][0]["id"] == made["id"]
    # another household of the district: 404, nothing written
    other = next(h for hs in households_by_town(fresh_app).values() for h in hs if h not in mine)
    r = client.post(f"{API}/{other}/visits", json={**visit, "row_version": 1}, headers=headers)
    assert r.status_code == 404


def test_other_departments_officer_gets_404(app) -> None:  # type: ignore[no-untyped-def]
    r = app.test_client().get(API, headers=bearer(app, "kaifeng-civil-affairs"))
    assert r.status_code == 404 and r.is_json
