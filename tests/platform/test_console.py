"""The platform console: onboarding, tenant list, lifecycle buttons, lead accounts (issue 7)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, ROOT, Browser, statements
from tests.platform.helpers import assert_duties_for_current_period, lead_signs_in

FIXTURE = ROOT / "tests" / "fixtures" / "dayi.yaml"


def _operator(app) -> Browser:  # type: ignore[no-untyped-def]
    b = Browser(app)
    assert b.login("operator").status_code == 302
    return b


def _temporary(page: str) -> tuple[str, str]:
    user = re.search(r'id="(?:lead|account)-username">([^<]+)<', page)
    password = re.search(r'id="temporary-password">([^<]+)<', page)
    assert user and password, page[:2000]
    return user.group(1), password.group(1)


def _hidden(page: str, name: str) -> str:
    import html

    if name == "policy_text":
        m = re.search(r'<textarea name="policy_text" hidden>(.*?)</textarea>', page, re.S)
    else:
        m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, name
    return html.unescape(m.group(1))


def _onboard_through_console(app, b: Browser, data: dict, files=None) -> str:  # type: ignore[no-untyped-def]
    """Preview, then confirm with the preview's own form; returns the result page."""
    r = b.post("/platform/onboard", data, csrf_from="/platform/onboard", **(files or {}))
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page[:3000]
    assert 'id="preview-departments"' in page and 'id="preview-measures"' in page
    confirm = {
        k: _hidden(page, k)
        for k in ("policy_text", "name", "level", "slug", "lead_username", "lead_name")
    }
    r = b.post("/platform/onboard/confirm", confirm, csrf_from="/platform/onboard")
    assert r.status_code == 200, r.get_data(as_text=True)[:3000]
    return r.get_data(as_text=True)


@pytest.mark.parametrize("stem", ["zhangdian", "jiangyan", "jiading"])
def test_templates_onboard_through_the_console(fresh_app, stem: str) -> None:  # type: ignore[no-untyped-def]
    b = _operator(fresh_app)
    slug = f"{stem}-2"
    page = _onboard_through_console(
        fresh_app, b, {"source": "template", "template": stem, "slug": slug}
    )
    username, password = _temporary(page)
    assert username == f"{slug}-lead"
    lead_signs_in(fresh_app, slug, username, password)
    assert_duties_for_current_period(fresh_app, slug, ROOT / "tenants" / f"{stem}.yaml")
    listing = b.get("/platform/").get_data(as_text=True)
    assert f'data-slug="{slug}"' in listing


def test_fifth_district_from_the_docs_onboards_by_upload(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(fresh_app)
    upload = {
        "source": "upload",
        "policy_file": (io.BytesIO(FIXTURE.read_bytes()), "dayi.yaml"),
        "lead_username": "dayi.wang",
        "lead_name": "王主任",
    }
    page = _onboard_through_console(fresh_app, b, upload, {"content_type": "multipart/form-data"})
    username, password = _temporary(page)
    assert username == "dayi.wang"
    lead = lead_signs_in(fresh_app, "dayi", username, password)
    assert_duties_for_current_period(fresh_app, "dayi", FIXTURE)
    assert "大邑县民政局" in lead.get("/t/dayi/departments").get_data(as_text=True)
    listing = b.get("/platform/?q=大邑").get_data(as_text=True)
    assert 'data-slug="dayi"' in listing and "2029年6月30日" in listing


def test_preview_lists_problems_and_existing_slug_is_refused(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from tests.platform.test_onboarding_cli import _counts

    b = _operator(fresh_app)
    before = _counts(fresh_app)
    r = b.post(
        "/platform/onboard", {"source": "template", "template": "kaifeng"}, "/platform/onboard"
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="problems"' in page and "kaifeng" in page
    assert "已被使用" in page and 'id="confirm-form"' not in page
    # forging the confirm step is refused too
    text = (ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8")
    r = b.post("/platform/onboard/confirm", {"policy_text": text}, "/platform/onboard")
    assert r.status_code == 422
    for content, name, status in ((b"a: [1", "x.yaml", 422), (b"\xff\xfe", "x.pdf", 400)):
        r = b.post(
            "/platform/onboard",
            {"source": "upload", "policy_file": (io.BytesIO(content), name)},
            "/platform/onboard",
            content_type="multipart/form-data",
        )
        assert r.status_code == status, name
    assert ".yaml" in r.get_data(as_text=True)  # the last: a PDF is not a policy file
    assert _counts(fresh_app) == before


def test_template_takes_a_new_name_level_and_slug_and_warns_of_a_duplicate(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """A slug clash keeps what was typed and makes the slug editable; a duplicate name warns."""
    import html

    from portal.platform.services import tenant_by_slug

    b = _operator(fresh_app)
    typed = {"source": "template", "template": "kaifeng", "name": "兰考县", "level": "县"}
    r = b.post("/platform/onboard", typed, "/platform/onboard")  # slug kaifeng: taken
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "标识 kaifeng 已被使用" in page
    fix = re.search(r'<details id="fix-form" open>(.*?)</details>', page, re.S)
    assert fix, "the correction form is open after a slug clash"
    form = fix.group(1)
    assert re.search(r'<input id="fix-slug" name="slug" value=""', form)  # visible, editable
    assert 'id="fix-name" name="name" value="兰考县"' in form
    assert re.search(r'<option value="县" selected>', form)
    assert 'type="hidden" name="slug"' not in form
    text = html.unescape(re.search(r'name="policy_text"[^>]*>(.*?)</textarea>', form, re.S)[1])
    r = b.post(
        "/platform/onboard",
        {"source": "text", "policy_text": text, "name": "兰考县", "level": "县", "slug": "lankao"},
        "/platform/onboard",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page[:2000]
    assert 'id="preview-name">兰考县<' in page and 'id="preview-level">县<' in page
    assert 'id="warnings"' not in page
    confirm = {
        k: _hidden(page, k)
        for k in ("policy_text", "name", "level", "slug", "lead_username", "lead_name")
    }
    assert b.post("/platform/onboard/confirm", confirm, "/platform/onboard").status_code == 200
    with fresh_app.app_context():
        tenant = tenant_by_slug("lankao")
        assert tenant is not None and (tenant.name, tenant.level) == ("兰考县", "县")
    # the template's own name again, under a new slug: a warning to confirm, not an error
    r = b.post(
        "/platform/onboard",
        {"source": "template", "template": "kaifeng", "slug": "kf-2"},
        "/platform/onboard",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="warnings"' in page
    assert "已有同名区县“开封市”（标识 kaifeng）" in page and "data-confirm=" in page
    r = b.post("/platform/onboard", {**typed, "level": "州", "slug": "x-2"}, "/platform/onboard")
    assert r.status_code == 422 and "级别应为以下之一" in r.get_data(as_text=True)


def test_format_guide_is_a_page_of_the_console(app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(app)
    onboard = b.get("/platform/onboard").get_data(as_text=True)
    assert 'href="/platform/policy-format"' in onboard
    r = b.get("/platform/policy-format")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    guide = re.search(
        r'<article class="prose" id="policy-format-guide"[^>]*>(.*?)</article>', page, re.S
    )
    assert guide and "政策配置文件格式" in guide[1]
    assert "<table>" in guide[1] and "<code>" in guide[1] and "<script" not in guide[1]
    assert 'id="top-level"' in guide[1] or "<h2 id=" in guide[1]  # headings can be linked
    assert "**" not in guide[1] and "| --- |" not in guide[1]  # rendered, not raw Markdown
    lead = Browser(app)
    lead.login("kaifeng-lead")
    assert lead.get("/platform/policy-format").status_code in (403, 404)


def test_format_guide_markdown_is_sanitised() -> None:
    from portal.kernel.markdown import render

    html = render(
        "# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
        '<img src=x onerror="alert(1)">\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
        document=True,
    )
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert "<table>" in html and '<h1 id="t">' in html


def test_console_list_uses_a_bounded_number_of_queries(app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(app)
    b.get("/platform/")
    with statements(app) as seen:
        r = b.get("/platform/")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    for slug in ("kaifeng", "jiading", "zhangdian", "jiangyan"):
        assert f'data-slug="{slug}"' in page
    # the list: 12 at most; the operator's dashboard above it: districts by status,
    # onboarding, users online, sign-in failures (+ their districts' names), database size
    assert len(seen) <= 18, seen
    # the meetings domain's held meetings feed "last joint meeting"
    from portal.platform import services

    with app.app_context():
        rows = {r.tenant.slug: r for r in services.tenant_overview()}
    assert rows["kaifeng"].last_meeting is not None
    day = rows["kaifeng"].last_meeting
    assert f"{day.year}年{day.month}月{day.day}日" in page
    # no business records on the console: no measure titles, no department names
    assert "开封市民政局" not in page and "特别扶助金" not in page


def test_operator_sees_no_business_pages(app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(app)
    assert b.get("/t/kaifeng/").status_code == 404
    assert b.get("/t/kaifeng/users").status_code == 404
    lead = Browser(app)
    lead.login("kaifeng-lead")
    assert lead.get("/platform/").status_code == 403
    assert lead.get("/platform/tenants/kaifeng").status_code == 403


def _status(app, slug: str) -> str:  # type: ignore[no-untyped-def]
    from portal.platform import services

    with app.app_context():
        return services.get_tenant(slug).status.value


def test_lifecycle_buttons_and_purge_confirmation(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(fresh_app)
    path = "/platform/tenants/jiading"
    page = b.get(path).get_data(as_text=True)
    assert 'id="action-suspend"' in page and "data-confirm" in page
    assert b.post(f"{path}/status", {"action": "suspend"}, path).status_code == 302
    assert _status(fresh_app, "jiading") == "suspended"
    page = b.get(path).get_data(as_text=True)
    assert "暂停" in page and 'id="action-resume"' in page
    assert Browser(fresh_app).login("jiading-lead").status_code == 401
    assert b.post(f"{path}/status", {"action": "resume"}, path).status_code == 302
    assert _status(fresh_app, "jiading") == "active"
    # purge is only offered and only works from pending deletion
    assert b.post(f"{path}/purge", {"confirm_slug": "jiading"}, path).status_code == 302
    assert _status(fresh_app, "jiading") == "active"
    b.post(f"{path}/status", {"action": "delete"}, path)
    assert _status(fresh_app, "jiading") == "pending_deletion"
    page = b.get(path).get_data(as_text=True)
    assert 'id="purge-form"' in page and 'id="action-restore"' in page
    b.post(f"{path}/purge", {"confirm_slug": "jiadin"}, path)
    assert _status(fresh_app, "jiading") == "pending_deletion"
    r = b.post(f"{path}/purge", {"confirm_slug": "jiading"}, path)
    assert r.status_code == 302 and _status(fresh_app, "jiading") == "purged"
    assert b.post(f"{path}/status", {"action": "restore"}, "/platform/").status_code == 302
    assert _status(fresh_app, "jiading") == "purged"


def test_archive_download_is_audited(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import PLATFORM_CHAIN, AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    b = _operator(fresh_app)
    r = b.post("/platform/tenants/kaifeng/archive", {}, "/platform/tenants/kaifeng")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert "manifest.json" in zf.namelist()
    r = b.get("/platform/tenants/kaifeng/policy.yaml")
    assert r.status_code == 200 and "开封市" in r.get_data(as_text=True)
    with fresh_app.app_context(), scope.cross_tenant("test"):
        actions = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_name).where(
                AuditEvent.tenant_id == PLATFORM_CHAIN, AuditEvent.summary == "kaifeng"
            )
        ).all()
    assert ("tenant_archive_exported", "operator") in actions
    assert ("tenant_config_exported", "operator") in actions


def test_operator_manages_lead_accounts(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth import operations
    from portal.platform import services

    b = _operator(fresh_app)
    path = "/platform/tenants/kaifeng"
    r = b.post(f"{path}/leads", {"username": "kf-li", "display_name": "李科长"}, path)
    assert r.status_code == 200
    username, password = _temporary(r.get_data(as_text=True))
    lead_signs_in(fresh_app, "kaifeng", username, password)
    with fresh_app.app_context():
        tenant = services.get_tenant("kaifeng")
        user = next(u for u in operations.district_users(tenant) if u.username == "kf-li")
    r = b.post(f"{path}/leads/{user.id}/reset", {}, path)
    assert r.headers["Cache-Control"] == "no-store"
    _, new_password = _temporary(r.get_data(as_text=True))
    assert Browser(fresh_app).login("kf-li", password).status_code == 401
    # forced to change again, and not back to the password of before
    lead_signs_in(fresh_app, "kaifeng", "kf-li", new_password, "Zweites-Passwort-2026")
    b.post(f"{path}/leads/{user.id}/active", {"active": "0"}, path)
    assert Browser(fresh_app).login("kf-li", "Zweites-Passwort-2026").status_code == 401
    # an officer is not a lead account: 404 from the operator's lead routes
    with fresh_app.app_context():
        officer = next(
            u for u in operations.district_users(tenant) if u.role.value == "dept_officer"
        )
    assert b.post(f"{path}/leads/{officer.id}/reset", {}, path).status_code == 404
    # duplicate username refused with a message
    r = b.post(f"{path}/leads", {"username": "kaifeng-lead"}, path)
    assert r.status_code == 302
    assert "已存在" in b.get(path).get_data(as_text=True)


def test_district_lead_manages_users_and_departments(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    assert lead.login("jiading-lead").status_code == 302
    users = "/t/jiading/users"
    page = lead.get(users).get_data(as_text=True)
    assert 'data-username="jiading-civil-affairs"' in page
    r = lead.post(
        users,
        {"username": "jd-new-officer", "display_name": "新经办人", "role": "dept_officer"},
    )
    assert r.status_code == 302  # no department: refused
    r = lead.post(
        users,
        {
            "username": "jd-new-officer",
            "display_name": "新经办人",
            "role": "dept_officer",
            "department": "civil_affairs",
        },
    )
    assert r.status_code == 200
    username, password = _temporary(r.get_data(as_text=True))
    officer = lead_signs_in(fresh_app, "jiading", username, password)
    assert officer.get(users).status_code == 403
    r = lead.post(
        "/t/jiading/departments",
        {"key": "red_cross", "kind": "red_cross", "name": "嘉定区红十字会"},
    )
    assert r.status_code == 302
    r = lead.post("/t/jiading/departments", {"key": "Bad Key", "kind": "red_cross", "name": "x"})
    assert r.status_code == 400
    page = lead.get("/t/jiading/departments").get_data(as_text=True)
    assert "嘉定区红十字会" in page
    # another district's user id answers 404
    from portal.auth import operations
    from portal.platform import services

    with fresh_app.app_context():
        other = operations.district_users(services.get_tenant("kaifeng"))[0]
    assert lead.post(f"{users}/{other.id}/reset", {}, users).status_code == 404
    assert lead.post(f"{users}/{other.id}/active", {"active": "0"}, users).status_code == 404
    assert Browser(fresh_app).login(other.username, DEMO_PASSWORD).status_code == 302


def test_problems_can_be_fixed_in_the_browser_and_checked_again(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = _operator(fresh_app)
    text = FIXTURE.read_text(encoding="utf-8").replace("kind: justice", "kind: judiciary")
    r = b.post("/platform/onboard", {"source": "text", "policy_text": text}, "/platform/onboard")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="fix-form"' in page and "departments[6].kind" in page
    fixed = _hidden(
        page.replace(
            '<textarea id="policy_text" name="policy_text" rows="24" spellcheck="false">',
            '<textarea name="policy_text" hidden>',
        ),
        "policy_text",
    )
    fixed = fixed.replace("kind: judiciary", "kind: justice")
    r = b.post("/platform/onboard", {"source": "text", "policy_text": fixed}, "/platform/onboard")
    assert r.status_code == 200 and 'id="confirm-form"' in r.get_data(as_text=True)
