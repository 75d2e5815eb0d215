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


def test_a_msgid_has_one_translation_in_every_catalog() -> None:
    """Catalogs are per domain but gettext has one namespace: the catalog that loads first
    would decide, so the same msgid (in the same context) must mean the same in all of
    them. Where the meaning differs, use a distinct msgid (e.g. "Full name" for a person,
    "Name" for a thing)."""
    from collections import defaultdict

    from babel.messages.pofile import read_po

    from portal.i18n import TRANSLATIONS

    for locale in ("zh_Hans_CN", "en"):
        seen: dict[tuple[str | None, str], dict[str, object]] = defaultdict(dict)
        for po in sorted(TRANSLATIONS.glob(f"*/{locale}/LC_MESSAGES/messages.po")):
            with po.open("rb") as f:
                for m in read_po(f, locale=locale):
                    if m.id and m.string:
                        key = (m.context, m.id if isinstance(m.id, str) else m.id[0])
                        seen[key][po.parent.parent.parent.name] = m.string
        clashes = {k: v for k, v in seen.items() if len(set(map(str, v.values()))) > 1}
        assert not clashes, (
            f"{locale}: {len(clashes)} msgids translated differently:\n"
            + "\n".join(
                f"{mid!r}: {by}"
                for (_, mid), by in sorted(clashes.items(), key=lambda kv: kv[0][1])
            )
        )
