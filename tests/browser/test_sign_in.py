"""An officer signs in through the real browser and sees their district home."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def test_officer_signs_in_and_sees_home(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/login")
    assert "登录" in page.title() or "登录" in page.content()
    sign_in(page, live_server, "kaifeng-civil-affairs")
    assert page.url.endswith("/t/kaifeng/")
    body = page.inner_text("body")
    assert "开封市民政局" in body and "部门经办人" in body


def test_wrong_password_shows_chinese_message(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "kaifeng-lead", "wrong-password-1")
    assert "用户名或密码错误" in page.inner_text("body")
