"""Issue 19: API tokens never mint a browser session; one safe-redirect check."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Browser
from tests.conftest import new_api_token as _token


def _set_cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.getlist("Set-Cookie")


def test_token_request_sets_no_session_and_revocation_ends_everything(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-civil-affairs", fresh_app)
    secret = _token(b)
    token_id = re.search(
        r"/account/tokens/([0-9a-f-]{36})/revoke", b.get("/account/tokens").get_data(as_text=True)
    ).group(1)
    api = fresh_app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    r = api.get("/api/v1/me", headers=headers)
    assert r.status_code == 200
    assert not [c for c in _set_cookies(r) if c.startswith("session=")], _set_cookies(r)
    assert api.get_cookie("session") is None
    # the token client holds no session: the web pages still want a sign-in
    assert api.get("/t/kaifeng/duties/").status_code == 302
    b.post(f"/account/tokens/{token_id}/revoke", csrf_from="/account/tokens")
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    assert api.get("/t/kaifeng/duties/").status_code == 302


def test_api_ignores_a_browser_session_cookie(login_as) -> None:  # type: ignore[no-untyped-def]
    """A signed-in browser calling the API without a token is not let in by its cookie."""
    b = login_as("kaifeng-lead")
    r = b.get("/api/v1/me")
    assert r.status_code == 401
    assert not [c for c in _set_cookies(r) if c.startswith("session=")]


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example/phish",
        "/%0a/evil.example/",
        "/%0d%0a/evil.example/",
        "%09//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "http://localhost.evil.example/",
        "javascript:alert(1)",
        "%20//evil.example",
    ],
)
def test_login_never_redirects_off_site(app, target: str) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    token = b.csrf("/login")
    r = b.client.post(
        f"/login?next={target}",
        data={"username": "kaifeng-lead", "password": "Demo-2026-pass", "csrf_token": token},
    )
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil" not in location.split("?")[0].lstrip("/").split("/")[0], location


def test_login_keeps_a_local_next(app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    token = b.csrf("/login")
    r = b.client.post(
        "/login?next=/t/kaifeng/duties/?status=submitted",
        data={"username": "kaifeng-lead", "password": "Demo-2026-pass", "csrf_token": token},
    )
    assert r.headers["Location"] == "/t/kaifeng/duties/?status=submitted"


def test_reauth_never_redirects_off_site(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    r = b.post(
        "/account/reauth?next=/%09/evil.example/phish",
        {"password": "Demo-2026-pass"},
        csrf_from="/account/reauth",
    )
    assert r.status_code == 302 and not r.headers["Location"].startswith("//")
    assert "evil.example" not in r.headers["Location"]


def test_language_switch_returns_to_the_page(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    token = b.csrf("/t/kaifeng/duties/")
    r = b.client.post(
        "/account/locale",
        data={"locale": "en", "csrf_token": token},
        headers={"Referer": "http://localhost/t/kaifeng/duties/?page=2"},
    )
    assert r.headers["Location"] == "/t/kaifeng/duties/?page=2"
    r = b.client.post(
        "/account/locale",
        data={"locale": "zh_Hans_CN", "csrf_token": token},
        headers={"Referer": "http://evil.example/t/kaifeng/duties/"},
    )
    assert r.headers["Location"] == "/"


def test_safe_target_unit() -> None:
    from portal.kernel.redirects import safe_target

    assert safe_target("/a/b?c=1") == "/a/b?c=1"
    assert safe_target("/\t/evil.example") is None
    assert safe_target("/\\evil.example") is None
    assert safe_target("http://portal.example/x?y=1", "portal.example") == "/x?y=1"
    assert safe_target("http://portal.example/x", "other.example") is None
    assert safe_target("http://portal.example//evil.example", "portal.example") is None
    assert safe_target("ftp://portal.example/x", "portal.example") is None
    assert safe_target("") is None and safe_target(None) is None
