"""No page, export or API answer shows a demo ID or phone number in full, for any role —
except the reveal itself, which needs a reason and is an audit event."""

from __future__ import annotations

import io
import re
import zipfile

import sqlalchemy as sa

from tests.register.helpers import bearer, demo_plaintexts, tenant_id

USERS = (
    "kaifeng-lead",
    "kaifeng-auditor",
    "kaifeng-health",
    "kaifeng-town1",
    "kaifeng-village1",
    "kaifeng-civil-affairs",
    "operator",
)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    data = response.get_data()
    if data[:2] == b"PK":  # .xlsx: the sheet XML
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return data.decode("utf-8", "replace")


def _crawl(b, start: str, limit: int = 60) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every register page reachable from `start` (GET links under /register/)."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        r = b.get(url)
        seen[url] = f"{r.status_code} " + _text(r)
        for link in re.findall(r'href="(/t/kaifeng/register/[^"#]*)"', seen[url]):
            link = link.replace("&amp;", "&")
            if link not in seen:
                queue.append(link)
    return seen


def test_no_response_holds_a_full_demo_number(app, login_as) -> None:  # type: ignore[no-untyped-def]
    ids, phones = demo_plaintexts(app)
    assert len(ids) > 400 and len(phones) > 300
    secrets = ids | phones
    crawled = 0
    for user in USERS:
        b = login_as(user)
        pages = _crawl(b, "/t/kaifeng/register/")
        pages.update(_crawl(b, "/t/kaifeng/register/requests?status=confirmed", 15))
        pages.update(_crawl(b, "/t/kaifeng/register/?status=exited", 15))
        api = app.test_client()
        headers = bearer(app, user)
        listing = api.get("/api/v1/households?per_page=100", headers=headers)
        pages["api list"] = _text(listing)
        for item in (listing.get_json() or {}).get("items", [])[:10]:
            pages[item["id"]] = _text(api.get(f"/api/v1/households/{item['id']}", headers=headers))
        for url, body in pages.items():
            crawled += 1
            leaked = [s for s in secrets if s in body]
            assert not leaked, f"{user} {url} shows {len(leaked)} full numbers"
            if body.startswith("200") and "/households/" in url:
                assert "**********" in body  # masked IDs are shown
    assert crawled > 100


def test_export_is_masked_and_audited(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    ids, phones = demo_plaintexts(fresh_app)
    r = login_as("kaifeng-lead", fresh_app).get("/t/kaifeng/register/export.xlsx?category=bereaved")
    assert r.status_code == 200
    body = _text(r)
    assert "**********" in body and not [s for s in ids | phones if s in body]
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        event = (
            db.session.execute(
                sa.select(AuditEvent)
                .where(AuditEvent.action == "export")
                .order_by(AuditEvent.seq.desc())
            )
            .scalars()
            .first()
        )
        assert (
            event is not None and "bereaved" in event.changes and '"masked": true' in event.changes
        )


def test_reveal_needs_a_reason_shows_once_and_is_audited(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.register.models import Household, Person
    from portal.tenancy import scope

    tid = tenant_id(fresh_app, "kaifeng")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        person = (
            db.session.execute(
                sa.select(Person)
                .join(Household, Household.id == Person.household_id)
                .where(Person.phone.is_not(None))
                .order_by(Household.number)
            )
            .scalars()
            .first()
        )
        person_id, household_id = person.id, person.household_id
        number, phone = person.id_number, person.phone
        db.session.remove()
    b = login_as("kaifeng-town1", fresh_app)
    page = f"/t/kaifeng/register/households/{household_id}"
    assert number not in b.get(page).get_data(as_text=True)
    # no reason: refused, nothing shown
    r = b.post(f"/t/kaifeng/register/persons/{person_id}/reveal", {"reason": ""}, csrf_from=page)
    assert r.status_code == 302 and number not in b.get(page).get_data(as_text=True)
    r = b.post(
        f"/t/kaifeng/register/persons/{person_id}/reveal",
        {"reason": "核对银行卡开户信息"},
        csrf_from=page,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and number in body and phone in body
    assert r.headers["Cache-Control"] == "no-store"
    assert number not in b.get(page).get_data(as_text=True)  # for that view only
    with fresh_app.app_context(), scope.tenant_scope(tid):
        events = (
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "pii_reveal"))
            .scalars()
            .all()
        )
        assert len(events) == 1
        event = events[0]
        assert event.actor_name == "kaifeng-town1" and "核对银行卡开户信息" in event.changes
        assert event.entity_id == str(person_id) and number not in event.changes
    # lead and auditor see the register masked and may not reveal
    lead = login_as("kaifeng-lead", fresh_app)
    assert "查看完整信息" not in lead.get(page).get_data(as_text=True)
    r = lead.post(
        f"/t/kaifeng/register/persons/{person_id}/reveal", {"reason": "x y"}, csrf_from=page
    )
    assert r.status_code == 404


def test_full_export_needs_the_grant_and_a_reason(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    ids, _phones = demo_plaintexts(fresh_app)
    url = "/t/kaifeng/register/export-full.xlsx"
    health = login_as("kaifeng-health", fresh_app)
    r = health.post(url, {"reason": "", "category": "bereaved"}, csrf_from="/t/kaifeng/register/")
    assert r.status_code == 302 and r.data[:2] != b"PK"
    r = health.post(
        url,
        {"reason": "年度扶助金发放核对", "category": "bereaved"},
        csrf_from="/t/kaifeng/register/",
    )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = _text(r)
    assert [i for i in ids if i in body]  # the full numbers
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        events = (
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "export"))
            .scalars()
            .all()
        )
        assert len(events) == 1 and "年度扶助金发放核对" in events[0].changes
        assert '"masked": false' in events[0].changes and events[0].actor_name == "kaifeng-health"
        db.session.remove()
    for user in ("kaifeng-lead", "kaifeng-town1", "kaifeng-civil-affairs"):
        b = login_as(user, fresh_app)
        r = b.post(url, {"reason": "看看"}, csrf_from="/account/password")
        assert r.status_code == 404
