"""The benefit pages on the demo: the steps by the right departments, lines with their
reasons, a town officer's own lines only, claims, the funding export, bounded queries."""

from __future__ import annotations

import sqlalchemy as sa

from tests.audit.coverage import row_version
from tests.duties.test_query_counts import _statements
from tests.register.helpers import tenant_id

BASE = "/t/kaifeng/benefits"


def _cycle_id(app, status: str):  # type: ignore[no-untyped-def]
    from portal.benefits.models import PaymentCycle
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        found = db.session.execute(
            sa.select(PaymentCycle.id).where(PaymentCycle.status == status)
        ).scalar_one()
        db.session.remove()
    return found


def _town_of(username: str):  # type: ignore[no-untyped-def]
    """The town a town officer is bound to (inside the district's scope)."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.register.models import OfficerTown

    return db.session.execute(
        sa.select(OfficerTown.town_id).where(
            OfficerTown.user_id.in_(sa.select(User.id).filter_by(username=username))
        )
    ).scalar()


def test_the_cycle_steps_through_the_pages(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    cid = _cycle_id(fresh_app, "computed")
    url = f"{BASE}/cycles/{cid}"
    health = login_as("kaifeng-health", fresh_app)
    finance = login_as("kaifeng-finance", fresh_app)
    v = row_version(health.get(url).get_data(as_text=True))
    # finance cannot review; the confirmation box is required
    review = {"action": "review", "confirm": "yes", "row_version": v}
    r = finance.post(f"{url}/step", review, csrf_from=url)
    assert r.status_code == 403
    r = health.post(f"{url}/step", {**review, "confirm": ""}, csrf_from=url)
    assert r.status_code == 400
    # the kernel's version check: none → 400 naming row_version, stale → 409
    r = health.post(f"{url}/step", {**review, "row_version": ""}, csrf_from=url)
    assert r.status_code == 400 and "row_version" in health.get(url).get_data(as_text=True)
    r = health.post(f"{url}/step", {**review, "row_version": str(int(v) - 1)}, csrf_from=url)
    assert r.status_code == 409 and "已被更改" in health.get(url).get_data(as_text=True)
    r = health.post(f"{url}/step", review, csrf_from=url)
    assert r.status_code == 302
    # 卫健 cannot approve; 财政 can
    approve = {"action": "approve", "confirm": "yes", "row_version": str(int(v) + 1)}
    r = health.post(f"{url}/step", approve, csrf_from=url)
    assert r.status_code == 403
    r = finance.post(f"{url}/step", approve, csrf_from=url)
    assert r.status_code == 302
    page = finance.get(url).get_data(as_text=True)
    assert "已核准（财政）" in page and "导出银行代发文件" in page
    # the lines say why, in the document's words
    assert "年满49周岁" in page and "汴政办〔2023〕24号" in page
    # the bank file (full numbers: only finance), then the funding export for the lead
    v = row_version(page, last=True)
    r = finance.post(f"{url}/bank-file", {"row_version": v}, csrf_from=url)
    assert r.status_code == 200 and r.data[:2] == b"PK"
    lead = login_as("kaifeng-lead", fresh_app)
    r = lead.get(f"{url}/funding.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    assert lead.post(f"{url}/bank-file", {"row_version": v}, csrf_from=url).status_code == 404
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        actions = set(
            db.session.execute(
                sa.select(AuditEvent.action).where(AuditEvent.entity_id == str(cid))
            ).scalars()
        )
        db.session.remove()
    assert {
        "benefit_cycle_reviewed",
        "benefit_cycle_approved",
        "benefit_bank_file_exported",
        "benefit_funding_exported",
    } <= actions
    # a new month's cycle, created by 卫健
    r = health.post(f"{BASE}/cycles", {"period": "2099-01"}, csrf_from=f"{BASE}/")
    assert r.status_code == 302
    r = health.post(f"{BASE}/cycles", {"period": "2098-12"}, csrf_from=f"{BASE}/")
    assert r.status_code == 302  # refused (month order): back to the list with the message
    assert "按月份顺序" in health.get(f"{BASE}/").get_data(as_text=True)


def test_town_officer_sees_only_the_town_lines(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits.models import PaymentLine
    from portal.extensions import db
    from portal.tenancy import scope

    cid = _cycle_id(app, "computed")
    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        town = _town_of("kaifeng-town1")
        all_lines = db.session.execute(
            sa.select(sa.func.count()).where(PaymentLine.cycle_id == cid)
        ).scalar()
        own = db.session.execute(
            sa.select(sa.func.count()).where(
                PaymentLine.cycle_id == cid, PaymentLine.town_id == town
            )
        ).scalar()
        db.session.remove()
    assert 0 < own < all_lines
    town_b = login_as("kaifeng-town1")
    page = town_b.get(f"{BASE}/cycles/{cid}").get_data(as_text=True)
    assert f"明细 ({own})" in page
    lead_page = login_as("kaifeng-lead").get(f"{BASE}/cycles/{cid}").get_data(as_text=True)
    assert f"明细 ({all_lines})" in lead_page
    # another department's officer sees nothing of the ledger
    assert login_as("kaifeng-civil-affairs").get(f"{BASE}/").status_code == 404


def test_a_town_officer_enters_a_claim_and_sees_the_refusal(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register.models import Household
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        town = _town_of("kaifeng-town1")
        number = db.session.execute(
            sa.select(Household.number)
            .where(
                Household.town_id == town,
                Household.category == "bereaved",
                Household.status == "registered",
            )
            .order_by(Household.number)
            .limit(1)
        ).scalar()
        db.session.remove()
    town_b = login_as("kaifeng-town1", fresh_app)
    url = f"{BASE}/claims"
    form = {
        "standard_key": "6/住院护理补贴",
        "household_number": number,
        "relationship": "principal",
        "start": "2026-01-01",
        "end": "2026-04-30",  # 120 days: 90 accepted
        "evidence_note": "出院小结",
    }
    r = town_b.post(url, form, csrf_from=url)
    assert r.status_code == 302
    page = town_b.get(url).get_data(as_text=True)
    assert "申领已受理：90，27000 元" in page
    assert "2026年第 91 起不予受理：最多 90 天/年" in page
    # a household of another town is not found (scope), nothing is written
    r = town_b.post(url, {**form, "household_number": "D999999"}, csrf_from=url)
    assert r.status_code == 400
    assert "没有这个档案号的家庭" in r.get_data(as_text=True)


def test_cycle_page_statements_do_not_grow_with_lines(app, login_as) -> None:  # type: ignore[no-untyped-def]
    """A page of 50 lines and a page of 5 run the same statements (names in one query)."""
    lead = login_as("kaifeng-lead")
    cid = _cycle_id(app, "computed")
    url = f"{BASE}/cycles/{cid}"
    lead.get(url)  # warm the caches
    few = _statements(app, lead, f"{url}?kind=recovery")  # none or a few lines
    many = _statements(app, lead, url)  # a page of 50 lines
    assert few <= many <= few + 2 <= 20  # + the two name look-ups, never one per line
    assert _statements(app, lead, f"{BASE}/") <= 20
