"""The dashboards: numbers that agree with the duty list, bounded query counts whatever
the district's size, and the shell's menu, badges and breadcrumbs."""

from __future__ import annotations

import json
import re
import time

import sqlalchemy as sa

from portal.duties import queries as services
from portal.duties.models import Duty
from portal.extensions import db
from portal.kernel.periods import Period
from portal.tenancy import scope
from portal.tenancy.models import Tenant
from tests.conftest import statements
from tests.duties.helpers import triple_current_duties


def _queries(app, b, path: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    from portal.kernel import memo

    memo.forget()  # count a page whose menu and counts are not kept yet (the worst case)
    with statements(app) as seen:
        r = b.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    return len(seen), r.get_data(as_text=True)


def _chart(page: str) -> dict:
    raw = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S
    )
    assert raw, "no chart data block"
    return json.loads(raw.group(1))


def test_lead_dashboard_numbers_match_the_duty_list(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    period = Period.current().previous
    page = b.get(f"/t/kaifeng/?period={period.code}").get_data(as_text=True)
    data = _chart(page)
    per_status = {s["key"]: sum(s["data"]) for s in data["departments"]["series"]}
    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        with scope.tenant_scope(tid):
            for status, n in per_status.items():
                stmt = services.duty_query(period=period.code, status=status)
                assert services.count(stmt) == n, status
            overdue = services.count(services.duty_query(period=period.code, status="overdue"))
    ranked = sum(data["ranking"]["series"][0]["data"]) if data["ranking"]["names"] else 0
    assert ranked == overdue  # "overdue" is the duties domain's definition, here too
    # every bar links to the duty list filtered to what it counts
    assert data["list"] == "/t/kaifeng/duties/" and data["period"] == period.code
    assert len(data["departments"]["ids"]) == len(data["departments"]["names"])
    # the trend covers four half-years ending with the chosen one, labelled
    assert data["trend"]["periods"][-1] == period.label and len(data["trend"]["periods"]) == 4
    assert 'id="overdue-note"' in page and "按今天" in page


def test_dashboards_take_a_bounded_number_of_queries(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead", fresh_app)
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    auditor = login_as("kaifeng-auditor", fresh_app)
    before = [_queries(fresh_app, b, "/t/kaifeng/")[0] for b in (lead, officer, auditor)]
    triple_current_duties(fresh_app)
    after = [_queries(fresh_app, b, "/t/kaifeng/")[0] for b in (lead, officer, auditor)]
    assert after == before
    print("home queries (lead, officer, auditor):", after)
    # + 2 for the benefits panel (lead, auditor): one grouped query of lines, the latest cycle
    assert after[0] <= 20 and after[1] <= 12 and after[2] <= 15
    start = time.perf_counter()
    for _ in range(5):
        lead.get("/t/kaifeng/")
    print("lead home ms:", round((time.perf_counter() - start) / 5 * 1000, 1))


def test_shell_menu_badges_and_breadcrumbs(app, login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead")
    page = lead.get("/t/kaifeng/duties/").get_data(as_text=True)
    # groups of work, the current item, the 待审核 badge
    for group in ("工作台", "职责落实", "联席会议", "督办事项", "政策", "审计", "系统管理"):
        assert f"<summary>{group}</summary>" in page, group
    assert re.search(
        r'class="nav-link active" aria-current="page"><span class="nav-label">职责<', page
    )
    assert re.search(r'待审核</span><span class="count"[^>]*>\d+<', page)
    assert '<nav class="breadcrumbs"' in page and "职责落实" in page
    # a duty's page highlights 职责 and links the crumb back to the list
    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        with scope.tenant_scope(tid):
            duty_id = db.session.execute(sa.select(Duty.id).limit(1)).scalar_one()
    page = lead.get(f"/t/kaifeng/duties/{duty_id}").get_data(as_text=True)
    assert 'aria-current="page"><span class="nav-label">职责<' in page
    assert '<a href="/t/kaifeng/duties/">职责</a>' in page
    # account pages keep the district menu; API tokens live only in the user menu
    page = lead.get("/account/password").get_data(as_text=True)
    assert "/t/kaifeng/duties/" in page and 'aria-current="page" class="active">修改密码' in page
    assert page.count("/account/tokens") == 1
    # officers: what the role may not open is not offered; 被退回 counts on 职责
    officer = login_as("kaifeng-civil-affairs")
    page = officer.get("/t/kaifeng/").get_data(as_text=True)
    assert "/t/kaifeng/duties/review" not in page and "/t/kaifeng/users" not in page
    assert "/t/kaifeng/online" not in page and "系统管理" not in page
    # the operator's menu: console, notices, online users, audit
    op = login_as("operator")
    page = op.get("/platform/").get_data(as_text=True)
    for url in ("/platform/notices", "/platform/online", "/platform/audit/"):
        assert url in page
    assert "/t/" not in page.split('id="sidebar"')[1].split("</nav>")[0]


def test_bad_period_does_not_break_the_home(app, login_as) -> None:  # type: ignore[no-untyped-def]
    for user in ("kaifeng-lead", "kaifeng-civil-affairs"):
        b = login_as(user)
        for value in ("x", "2026H9", "9999H1", "'"):
            assert b.get(f"/t/kaifeng/?period={value}").status_code == 200


def test_overview_panel_names_a_new_department_at_once(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """The departments panel is kept a few seconds, but a department added in the
    district shows on the next page."""
    from portal.tenancy import services as tenancy

    lead = login_as("kaifeng-lead", fresh_app)
    panel = re.compile(r'id="overview-panel">.*?</section>', re.S)
    before = panel.search(lead.get("/t/kaifeng/").get_data(as_text=True))
    assert before and "开封市民政局" in before.group(0)
    with fresh_app.app_context():
        tenant = db.session.execute(sa.select(Tenant).filter_by(slug="kaifeng")).scalar_one()
        with scope.tenant_scope(tenant.id):
            tenancy.create_department(tenant, "test_new", "other", "测试新部门")
            db.session.commit()
    after = panel.search(lead.get("/t/kaifeng/").get_data(as_text=True))
    assert after and "测试新部门" in after.group(0)
