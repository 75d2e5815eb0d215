"""District policy pages and API (issue 4): leads edit, officers and auditors read."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import statements


def _ids(app, slug: str, number: str) -> tuple[str, str, list[str]]:  # type: ignore[no-untyped-def]
    """(measure id, first benefit id, department ids) of a measure."""
    from portal.extensions import db
    from portal.policy.models import Measure
    from portal.tenancy import scope
    from portal.tenancy.models import Department
    from portal.tenancy.services import get_tenant

    with app.app_context(), scope.tenant_scope(get_tenant(slug).id):
        m = db.session.execute(sa.select(Measure).filter_by(number=number)).scalars().first()
        depts = db.session.execute(sa.select(Department).order_by(Department.key)).scalars()
        return (
            str(m.id),
            str(m.benefits[0].id) if m.benefits else "",
            [str(d.id) for d in depts],
        )


def test_lead_sees_policy_with_dated_values_in_bounded_queries(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    with statements(app) as seen:
        r = b.get("/t/kaifeng/policy/")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "汴政办〔2023〕24号" in page and "住院护理补贴" in page
    assert "1180" in page and "1430" in page and "2023年8月1日" in page
    assert "开封市计划生育协会" in page  # a responsible department
    assert "/edit" in page and "values/new" in page
    assert len(seen) <= 20, len(seen)


def test_officer_and_auditor_read_only_other_tenant_404(app, login_as) -> None:  # type: ignore[no-untyped-def]
    measure_id, benefit_id, _d = _ids(app, "kaifeng", "6")
    for username in ("kaifeng-civil-affairs", "kaifeng-auditor"):
        b = login_as(username)
        r = b.get("/t/kaifeng/policy/")
        page = r.get_data(as_text=True)
        assert r.status_code == 200 and "住院护理补贴" in page
        assert "/edit" not in page and "values/new" not in page
        assert b.get(f"/t/kaifeng/policy/measures/{measure_id}/edit").status_code == 404
        r = b.post(
            f"/t/kaifeng/policy/benefits/{benefit_id}/values/new",
            {"amount": "1", "effective_from": "2030-01-01", "source": "x"},
            csrf_from="/t/kaifeng/policy/",
        )
        assert r.status_code == 404
    other = login_as("jiading-lead")
    assert other.get("/t/kaifeng/policy/").status_code == 404
    assert other.get(f"/t/jiading/policy/measures/{measure_id}/edit").status_code == 404


def test_lead_edits_measure_audited_with_field_errors_and_conflict(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.policy.models import Measure
    from portal.tenancy import scope
    from portal.tenancy.models import Department
    from portal.tenancy.services import get_tenant

    measure_id, _b, _d = _ids(fresh_app, "kaifeng", "11")
    with fresh_app.app_context(), scope.tenant_scope(get_tenant("kaifeng").id):
        keys = {d.key: str(d.id) for d in db.session.execute(sa.select(Department)).scalars().all()}
    b = login_as("kaifeng-lead", fresh_app)
    url = f"/t/kaifeng/policy/measures/{measure_id}/edit"
    form = b.get(url).get_data(as_text=True)
    version = re.search(r'name="row_version" value="(\d+)"', form).group(1)
    # field errors: nothing saved
    r = b.post(url, {"title": " ", "category": "nope", "lead": "not-an-id", "row_version": version})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "标题为必填项" in page and "请从列表中选择类别" in page and "请选择本区的部门" in page
    # no CSRF token: refused
    r = b.client.post(url, data={"title": "x", "category": "housing", "row_version": version})
    assert r.status_code == 400
    # a good edit
    r = b.post(
        url,
        {
            "title": "解决住房困难（修订）",
            "text": "新的全文",
            "category": "housing",
            "lead": [keys["housing"]],
            "cooperating": [keys["civil_affairs"], keys["housing"]],
            "row_version": version,
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    # the current half-year's duties followed: civil affairs now has measure 11's duty
    policy_page = b.get(r.headers["Location"]).get_data(as_text=True)
    assert "本期职责已随之更新" in policy_page, policy_page[:3000]
    with fresh_app.app_context(), scope.tenant_scope(get_tenant("kaifeng").id):
        from portal.duties.models import Duty
        from portal.kernel.periods import Period

        holders = set(
            db.session.execute(
                sa.select(Department.key)
                .join(Duty, Duty.department_id == Department.id)
                .where(Duty.period == Period.current().code, Duty.measure_number == "11")
            ).scalars()
        )
    assert holders == {"housing", "civil_affairs"}, holders
    # the same stale form again: conflict, nothing lost
    r = b.post(
        url,
        {
            "title": "别人的改动",
            "category": "housing",
            "lead": [keys["housing"]],
            "row_version": version,
        },
    )
    assert r.status_code == 409 and 'id="conflict"' in r.get_data(as_text=True)
    with fresh_app.app_context(), scope.tenant_scope(get_tenant("kaifeng").id):
        m = db.session.get(Measure, (get_tenant("kaifeng").id, __import__("uuid").UUID(measure_id)))
        assert m.title == "解决住房困难（修订）" and m.text == "新的全文"
        roles = [(r.department.key, r.role.value) for r in m.responsibilities]
        assert roles == [("housing", "lead"), ("civil_affairs", "cooperating")]
        events = (
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.actor_name == "kaifeng-lead"))
            .scalars()
            .all()
        )
        kinds = {(e.action, e.entity_type) for e in events}
    assert ("update", "Measure") in kinds and ("create", "MeasureResponsibility") in kinds


def test_new_dated_value_never_overwrites(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.policy.models import BenefitValue
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    _m, benefit_id, _d = _ids(fresh_app, "kaifeng", "1")
    b = login_as("kaifeng-lead", fresh_app)
    url = f"/t/kaifeng/policy/benefits/{benefit_id}/values/new"
    assert "1180" in b.get(url).get_data(as_text=True)
    for bad, field_message in (
        ({"amount": "-5", "effective_from": "2026-01-01", "source": "x"}, "金额必须为正数"),
        ({"amount": "abc", "effective_from": "2026-01-01", "source": "x"}, "请以数字填写金额"),
        ({"amount": "1500", "effective_from": "2023-08-01", "source": "x"}, "该日期已有金额"),
        ({"amount": "1500", "effective_from": "2026-02-30", "source": "x"}, "YYYY-MM-DD"),
        (
            {"amount": "1500", "effective_from": "2026-01-01", "source": ""},
            "请填写规定该金额的文件",
        ),
    ):
        r = b.post(url, bad)
        assert r.status_code == 422 and field_message in r.get_data(as_text=True), bad
    r = b.post(
        url, {"amount": "1500", "effective_from": "2026-01-01", "source": "汴政办〔2025〕9号"}
    )
    assert r.status_code == 302
    with fresh_app.app_context(), scope.tenant_scope(get_tenant("kaifeng").id):
        values = db.session.execute(
            sa.select(BenefitValue.amount, BenefitValue.effective_from, BenefitValue.source)
            .where(BenefitValue.benefit_id == __import__("uuid").UUID(benefit_id))
            .order_by(BenefitValue.effective_from.asc().nulls_first())
        ).all()
    assert [int(v[0]) for v in values] == [1180, 1430, 1500]
    assert values[-1][2] == "汴政办〔2025〕9号"


def test_home_panel_warns_about_expired_or_expiring_policy(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["TODAY"] = "2026-11-25"
    page = login_as("zhangdian-lead", fresh_app).get("/t/zhangdian/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' in page and "2026年1月7日" in page
    page = login_as("kaifeng-lead", fresh_app).get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' not in page
    # an officer does not get the lead's panel
    page = login_as("zhangdian-health", fresh_app).get("/t/zhangdian/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' not in page
    page = login_as("jiangyan-lead", fresh_app).get("/t/jiangyan/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' in page and "征求意见稿" in page
    fresh_app.config["TODAY"] = "2023-01-01"
    page = login_as("jiading-lead", fresh_app).get("/t/jiading/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' in page and "2023年7月13日 起施行" in page
    fresh_app.config["TODAY"] = "2025-11-01"
    page = login_as("zhangdian-lead", fresh_app).get("/t/zhangdian/").get_data(as_text=True)
    assert 'id="policy-expiry-panel"' in page and "67" in page


def test_api_policy(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import new_api_token

    b = login_as("kaifeng-auditor")
    headers = {"Authorization": f"Bearer {new_api_token(b)}"}
    api = app.test_client()
    data = api.get("/api/v1/policy", headers=headers).get_json()
    assert data["doc_number"] == "汴政办〔2023〕24号" and data["in_force"] is True
    m1 = next(m for m in data["measures"] if m["number"] == "1")
    allowance = m1["benefits"][0]
    assert [v["amount"] for v in allowance["values"]] == [1180, 1430]
    assert allowance["amount"] == 1430
    old = api.get("/api/v1/policy?date=2023-07-31", headers=headers)
    assert old.status_code == 404 and old.get_json()["error"]["code"] == "no_policy"
    bad = api.get("/api/v1/policy?date=31.07.2023", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_date"
    z = login_as("zhangdian-lead")
    zh = api.get(
        "/api/v1/policy", headers={"Authorization": f"Bearer {new_api_token(z)}"}
    ).get_json()
    assert zh["in_force"] is False and zh["effective_until"] == "2026-01-07"


def test_policy_page_in_english(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("zhangdian-lead", fresh_app)
    r = b.post("/account/locale", {"locale": "en"}, csrf_from="/t/zhangdian/policy/")
    assert r.status_code == 302
    page = b.get("/t/zhangdian/policy/").get_data(as_text=True)
    assert "yuan per household per time" in page and "Spring Festival" in page
    assert "member aged 50–69" in page and "This policy expired on 7 Jan 2026" in page
    home = b.get("/t/zhangdian/").get_data(as_text=True)
    assert "expired on 7 Jan 2026" in home


def test_a_measure_edit_sends_policy_changed_and_shows_the_answer(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """The view announces the change through the kernel signal (no call into duties) and
    shows the lead what the receiver did; the receiver runs in the same transaction."""
    from dataclasses import dataclass

    from portal.kernel import signals

    @dataclass
    class Answer:
        period: str = "2026H2"
        period_label: str = "2026年下半年"
        created: int = 1
        updated: int = 0
        removed: int = 0

    calls: list[tuple] = []

    def receiver(sender, **kw):  # type: ignore[no-untyped-def]
        calls.append((sender.slug, kw["version"].doc_number, kw["actor"].username))
        return Answer()

    measure_id, _b, _d = _ids(fresh_app, "kaifeng", "12")
    b = login_as("kaifeng-lead", fresh_app)
    url = f"/t/kaifeng/policy/measures/{measure_id}/edit"
    form = b.get(url).get_data(as_text=True)
    version = re.search(r'name="row_version" value="(\d+)"', form).group(1)
    # the department picker: checkboxes named "lead", the chosen one checked
    lead = re.search(r'name="lead" value="([0-9a-f-]+)" checked> <span>开封市民政局', form).group(1)
    data = {
        "title": "优先安排其收养子女",
        "category": "other",
        "lead": lead,
        "row_version": version,
    }
    with signals.policy_changed.connected_to(receiver):
        r = b.post(url, data)
        assert r.status_code == 302, r.get_data(as_text=True)[:800]
        page = b.get(r.headers["Location"]).get_data(as_text=True)
    assert calls == [("kaifeng", "汴政办〔2023〕24号", "kaifeng-lead")]
    assert "2026年下半年" in page
