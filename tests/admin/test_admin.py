"""Flask-Admin views follow DESIGN.md §3 (more cells in test_access_matrix, leaks in test_leak_probes)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import Browser, statements


def _ids(app, model_name: str, slug: str) -> list[str]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    cls = db.Model.registry._class_registry[model_name]
    with app.app_context(), scope.cross_tenant("test"):
        tenant_id = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
    with app.app_context(), scope.tenant_scope(tenant_id):
        rows = db.session.execute(sa.select(cls.id)).scalars().all()
        db.session.remove()
    return [str(r) for r in rows]


def test_admin_pages_are_chinese_and_list_queries_are_bounded(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    with statements(b.app) as seen:
        r = b.get("/t/kaifeng/admin/users/")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "kaifeng-lead" in page and "jiading-lead" not in page
    assert "账号" in page and "返回平台" in page
    assert len(seen) <= 12, seen


def test_lead_creates_a_department_and_forged_tenant_is_ignored(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    jiading = _ids(fresh_app, "Department", "jiading")[0]
    form = "/t/kaifeng/admin/departments/new/"
    page = b.get(form).get_data(as_text=True)
    kinds = re.findall(r'<option value="([^"]+)"', page)
    assert kinds, page[:3000]
    r = b.post(
        form,
        {
            "key": "admin_test",
            "name": "测试单位",
            "kind": kinds[-1],
            "sort_order": "99",
            "tenant_id": "forged",
            "id": jiading,
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    with fresh_app.app_context(), scope.cross_tenant("test"):
        from portal.tenancy.models import Tenant

        made = db.session.execute(sa.select(Department).filter_by(key="admin_test")).scalar_one()
        assert str(made.id) != jiading
        slug = db.session.execute(sa.select(Tenant.slug).filter_by(id=made.tenant_id)).scalar()
        assert slug == "kaifeng"
    assert "测试单位" in b.get("/t/kaifeng/admin/departments/").get_data(as_text=True)
    # issue 19: the back office is the lead's; the auditor finds no such page
    a = Browser(fresh_app)
    assert a.login("kaifeng-auditor").status_code == 302
    assert a.get("/t/kaifeng/admin/departments/").status_code == 404
    assert a.get(form).status_code == 404
    assert (
        a.post(form, {"key": "nope_x", "name": "x"}, csrf_from="/account/password").status_code
        == 404
    )


def test_account_changes_need_reauth_and_offer_only_own_departments(fresh_app) -> None:  # type: ignore[no-untyped-def]
    import time

    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    users = b.get("/t/kaifeng/admin/users/").get_data(as_text=True)
    officer = re.findall(r"edit/\?id=([0-9a-f-]+)", users)[-1]
    url = f"/t/kaifeng/admin/users/edit/?id={officer}"
    page = b.get(url).get_data(as_text=True)
    options = set(re.findall(r'<option (?:selected )?value="([0-9a-f-]{36})"', page))
    own = set(_ids(fresh_app, "Department", "kaifeng"))
    assert options and options <= own
    # an expired re-authentication sends the lead to confirm the password first
    with b.client.session_transaction() as s:
        s["reauth_at"] = int(time.time()) - 3600
    r = b.post(url, {"display_name": "x", "role": "auditor"}, csrf_from=url)
    assert r.status_code == 302 and "/account/reauth" in r.headers["Location"]
    # another district's department is not a valid choice
    with b.client.session_transaction() as s:
        s["reauth_at"] = int(time.time())
    foreign = _ids(fresh_app, "Department", "jiading")[0]
    r = b.post(
        url,
        {"display_name": "x", "role": "dept_officer", "department_id": foreign, "active": "y"},
        csrf_from=url,
    )
    assert r.status_code == 200  # the form comes back with the error
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.cross_tenant("test"):
        user = db.session.execute(sa.select(User).where(User.id == officer_id(officer))).scalar()
        assert str(user.department_id) != foreign


def officer_id(text: str):  # type: ignore[no-untyped-def]
    import uuid

    return uuid.UUID(text)


def test_officers_have_no_back_office(login_as) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: officers get 404 on every admin URL, like any page that does not exist."""
    b = login_as("kaifeng-civil-affairs")
    assert b.get("/t/kaifeng/admin/users/").status_code == 404
    assert b.get("/t/kaifeng/admin/measures/").status_code == 404
    assert b.get("/t/kaifeng/admin/departments/").status_code == 404
    assert b.get("/t/kaifeng/admin/departments/export/csv/").status_code == 404
    assert b.get("/t/kaifeng/admin/meeting_minutes/").status_code == 404
    op = login_as("operator")
    assert op.get("/t/kaifeng/admin/").status_code == 404
    page = op.get("/platform/admin/tenants/").get_data(as_text=True)
    assert "kaifeng" in page and "jiading" in page


def test_json_columns_read_as_text_in_details_and_exports(login_as) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: eligibility, funding split, festivals, inferred reasons and member
    departments are shown with Chinese labels and names, never as raw JSON."""
    from portal.policy import labels

    raw = re.compile(r"[{\[]['\"]|['\"][}\]]|\{\}|\[\]")
    uuid_text = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    seen: dict[str, str] = {}
    for slug in ("kaifeng", "jiangyan"):
        b = login_as(f"{slug}-lead")
        for model, table in (
            ("BenefitStandard", "benefit_standards"),
            ("PolicyVersion", "policy_versions"),
            ("MeetingArrangement", "meeting_arrangements"),
        ):
            for record_id in _ids(b.app, model, slug):
                r = b.get(f"/t/{slug}/admin/{table}/details/?id={record_id}")
                assert r.status_code == 200, (table, record_id)
                page = r.get_data(as_text=True)
                body = page[page.index("<table") :]
                assert not raw.search(body), (table, raw.search(body).group(0))
                seen[f"{slug}:{table}:{record_id}"] = body
            csv = b.get(f"/t/{slug}/admin/{table}/export/csv/").get_data(as_text=True)
            assert not raw.search(csv), (table, raw.search(csv).group(0))
    pages = "\n".join(seen.values())
    bereaved = labels.label(labels.FAMILY_TYPE, "bereaved")
    assert bereaved in pages  # eligibility by the policy's own labels
    assert "市 : 县（区） = 1 : 1" in pages  # 开封's funding split of the increase
    assert "牵头单位" in pages and "推定的取值及理由" in pages  # 姜堰's inferred values
    arrangements = [v for k, v in seen.items() if ":meeting_arrangements:" in k]
    assert arrangements and all("成员单位" in a for a in arrangements)
    assert not any(uuid_text.search(a.split("成员单位", 1)[1][:2000]) for a in arrangements)
