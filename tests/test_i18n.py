"""Every marked string has a Chinese translation; English is selectable."""

from __future__ import annotations

from portal.i18n import missing_translations


def test_every_marked_string_has_a_chinese_translation() -> None:
    missing = missing_translations()
    assert not missing, (
        "untranslated (run `portal i18n update`, then fill the zh_Hans_CN .po):\n"
        + "\n".join(f"{d}: {m}" for d, m in missing)
    )


def test_english_by_accept_language(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "Sign in" in page and "登录" not in page
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "登录" in page


def test_user_choice_overrides_browser(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("zhangdian-lead" if False else "kaifeng-lead")
    r = b.post("/account/locale", {"locale": "en"}, csrf_from="/t/kaifeng/")
    assert r.status_code == 302
    page = b.get("/t/kaifeng/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Home" in page
    b.post("/account/locale", {"locale": "zh_Hans_CN"}, csrf_from="/t/kaifeng/")


def test_browser_language_does_not_override_the_district_chinese(login_as) -> None:  # type: ignore[no-untyped-def]
    """Chinese first: a signed-in lead whose browser prefers English still sees Chinese."""
    b = login_as("kaifeng-lead")
    page = b.get("/t/kaifeng/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="zh-CN"' in page
    assert "工作台" in page
