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


def _from(app, address: str) -> Browser:  # type: ignore[no-untyped-def]
    b = Browser(app)
    b.client.environ_base["REMOTE_ADDR"] = address
    return b


def test_failures_slow_down_that_address_and_never_lock_the_owner_out(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: five wrong passwords used to lock any named account for 15 minutes."""
    attacker = _from(fresh_app, "203.0.113.9")
    statuses = [attacker.login("jiading-lead", "not-the-password-9").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # the third failure starts the delays
    r = attacker.login("jiading-lead")  # even the right password waits its turn
    assert r.status_code == 429
    page = r.get_data(as_text=True)
    assert "请等待" in page and "秒" in page
    # the holder, from their own address, signs in at once
    assert _from(fresh_app, "198.51.100.7").login("jiading-lead").status_code == 302
    with fresh_app.app_context():
        from portal.audit.models import AuditEvent
        from portal.extensions import db
        from portal.tenancy import scope

        with scope.cross_tenant("test"):
            actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions.count("login_failed") == 3 and actions.count("lockout") == 1


def test_delays_grow_and_run_out(fresh_app) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from portal.auth import throttle
    from portal.auth.models import LoginAttempt
    from portal.extensions import db

    assert [throttle.delay(n, 3, 900) for n in (0, 2, 3, 4, 5, 20)] == [0, 0, 1, 2, 4, 900]
    attacker = _from(fresh_app, "203.0.113.10")
    for _ in range(4):
        attacker.login("jiading-auditor", "not-the-password-9")
    with fresh_app.app_context():
        state = throttle.state("jiading-auditor", "203.0.113.10")
        assert state.pair_failures == 3 and 0 < state.wait <= 1  # the 4th was not even tried
        # an hour later the delay has run out and a right password is accepted
        db.session.execute(
            sa.update(LoginAttempt).values(at=LoginAttempt.at - dt.timedelta(hours=1))
        )
        db.session.commit()
    assert attacker.login("jiading-auditor").status_code == 302


def test_many_addresses_meet_a_brief_account_wide_brake(fresh_app) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config.update(LOGIN_ACCOUNT_FREE_FAILURES=4, LOGIN_ACCOUNT_MAX_DELAY_SECONDS=30)
    for n in range(4):
        _from(fresh_app, f"192.0.2.{n}").login("jiading-lead", "not-the-password-9")
    r = _from(fresh_app, "198.51.100.7").login("jiading-lead")
    assert r.status_code == 429 and "请等待" in r.get_data(as_text=True)
    with fresh_app.app_context():
        from portal.auth import throttle

        assert throttle.state("jiading-lead", "198.51.100.7").wait <= 30


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


def test_idle_clock_is_rewritten_once_a_minute(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """An unchanged session is not re-signed on every page; an idle clock a minute old is
    moved forward (and the cookie re-sent, which also renews its expiry)."""
    import time

    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    assert b.get("/t/kaifeng/").status_code == 200
    r = b.get("/t/kaifeng/")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    old = int(time.time() - 120)
    with b.client.session_transaction() as s:
        s["seen"] = old
    r = b.get("/t/kaifeng/")
    assert r.status_code == 200 and "session=" in r.headers.get("Set-Cookie", "")
    with b.client.session_transaction() as s:
        assert s["seen"] >= old + 120


def test_sign_in_starts_a_new_session(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Session fixation: what a visitor's session held before sign-in does not survive it."""
    b = Browser(fresh_app)
    with b.client.session_transaction() as s:
        s["planted"] = "by an attacker"
    assert b.login("kaifeng-lead").status_code == 302
    with b.client.session_transaction() as s:
        assert "planted" not in s and s.get("_user_id")
