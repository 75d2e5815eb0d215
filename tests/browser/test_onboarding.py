"""An operator onboards a district from a template in the real browser; its lead then signs in."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def test_operator_onboards_kaifeng_template_and_lead_signs_in(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "operator")
    page.goto(live_server + "/platform/onboard")
    # the format guide is one click away, rendered
    page.click("#format-guide-link")
    page.wait_for_load_state("networkidle")
    assert page.locator("#policy-format-guide table").count() > 5
    page.go_back()
    page.select_option("select[name=template]", "kaifeng")
    page.fill("#name", "兰考县")
    page.select_option("#level", "县")
    page.click("#onboard-form button[type=submit]")  # the template's slug kaifeng: taken
    page.wait_for_load_state("networkidle")
    assert "已被使用" in page.inner_text("#problems")
    assert page.locator("#fix-form").get_attribute("open") is not None
    assert page.input_value("#fix-name") == "兰考县" and page.input_value("#fix-level") == "县"
    page.fill("#fix-slug", "kaifeng-b")  # only the slug is typed again
    page.click("#fix-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#preview-name") == "兰考县"
    assert page.inner_text("#preview-slug") == "kaifeng-b"
    assert page.locator("#warnings").count() == 0  # a new name: nothing to confirm
    assert page.locator("#preview-departments tbody tr").count() == 16
    assert "开封市民政局" in page.inner_text("#preview-departments")
    assert "特别扶助金" in page.inner_text("#preview-benefits")
    assert "联席会议" in page.inner_text("#preview-meeting")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已接入" in page.inner_text("h1")
    username = page.inner_text("#lead-username")
    password = page.inner_text("#temporary-password")
    assert username == "kaifeng-b-lead"
    page.goto(live_server + "/platform/")
    assert "kaifeng-b" in page.inner_text("#tenant-list")
    page.click("#user-menu summary")  # sign out: in the user menu
    page.click("#sign-out")
    page.wait_for_load_state("networkidle")

    sign_in(page, live_server, username, password)
    assert page.url.endswith("/account/password")
    page.fill("input[name=current_password]", password)
    page.fill("input[name=new_password]", "Kaifeng-B-2026")
    page.fill("input[name=confirm]", "Kaifeng-B-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/t/kaifeng-b/")
    assert "兰考县" in page.inner_text("body")
