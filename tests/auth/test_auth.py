"""Sign-in, lockout, CSRF, password change and sign-out (issue 2)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import Browser


def test_login_page_is_chinese_by_default(browser: Browser) -> None:
    page = browser.get("/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page


def test_officer_lands_on_district_home(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-civil-affairs")
    r = b.get("/", follow_redirects=True)
    assert r.status_code == 200
    assert "开封市民政局" in r.get_data(as_text=True)


def test_operator_lands_on_platform_console(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("operator")
    r = b.get("/")
    assert r.headers["Location"].endswith("/platform/")
    assert "平台控制台" in b.get("/platform/").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_clear_message(browser: Browser) -> None:
    r = browser.login("kaifeng-lead", "wrong-password-1")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = browser.login("nobody-at-all", "wrong-password-1")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)


def test_missing_csrf_token_is_refused_with_a_message(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    r = client.post("/login", data={"username": "kaifeng-lead", "password": "Demo-2026-pass"})
    assert r.status_code == 400
    assert "安全令牌" in r.get_data(as_text=True)


def test_ten_quick_failures_lock_the_account(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    statuses = []
    for _ in range(10):
        r = b.login("jiading-lead", "not-the-password-9")
        statuses.append(r.status_code)
        assert r.status_code in (401, 429)
    page = r.get_data(as_text=True)
    assert "锁定" in page
    # even the right password is refused while locked
    r = b.login("jiading-lead")
    assert r.status_code == 401 and "锁定" in r.get_data(as_text=True)
    with fresh_app.app_context():
        from portal.audit.models import AuditEvent
        from portal.extensions import db
        from portal.tenancy import scope

        with scope.cross_tenant("test"):
            actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions.count("login_failed") >= 5 and "lockout" in actions


def test_change_password_and_sign_out_invalidate_old_sessions(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    assert b.login("kaifeng-auditor").status_code == 302
    stolen_cookie = b.client.get_cookie("session").value
    r = b.post(
        "/account/password",
        {"current_password": "Demo-2026-pass", "new_password": "short", "confirm": "short"},
    )
    assert "至少需要" in r.get_data(as_text=True)
    r = b.post(
        "/account/password",
        {
            "current_password": "Demo-2026-pass",
            "new_password": "New-pass-2026!",
            "confirm": "New-pass-2026!",
        },
    )
    assert r.status_code == 302
    # the old cookie no longer works
    thief = fresh_app.test_client()
    thief.set_cookie("session", stolen_cookie)
    assert thief.get("/t/kaifeng/").status_code == 302
    # sign out, then the cookie from before is dead too
    cookie = b.client.get_cookie("session").value
    r = b.post("/logout", csrf_from="/t/kaifeng/")
    assert r.status_code == 302
    replay = fresh_app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/t/kaifeng/").status_code == 302
    assert Browser(fresh_app).login("kaifeng-auditor", "New-pass-2026!").status_code == 302


def test_security_headers(browser: Browser) -> None:
    r = browser.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers
    r = browser.client.get("/login", base_url="https://localhost")
    assert "max-age" in r.headers["Strict-Transport-Security"]


def test_idle_session_is_signed_out(fresh_app) -> None:  # type: ignore[no-untyped-def]
    import time

    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    assert b.get("/t/kaifeng/").status_code == 200
    limit = fresh_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    with b.client.session_transaction() as s:
        s["seen"] = int(time.time() - limit - 60)
    r = b.get("/t/kaifeng/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = b.get("/login").get_data(as_text=True)
    assert "由于长时间未操作" in page or "inactivity" in page
    # and the session really ended: the district page asks for sign-in again
    assert b.get("/t/kaifeng/").status_code == 302


def test_sign_in_starts_a_new_session(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Session fixation: what a visitor's session held before sign-in does not survive it."""
    b = Browser(fresh_app)
    with b.client.session_transaction() as s:
        s["planted"] = "by an attacker"
    assert b.login("kaifeng-lead").status_code == 302
    with b.client.session_transaction() as s:
        assert "planted" not in s and s.get("_user_id")
