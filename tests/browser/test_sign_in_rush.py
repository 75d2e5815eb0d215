"""Sign-in in a morning rush, in the real browser: refused as busy (503 + Retry-After),
the page waits and sends the form again by itself, with what was typed kept (issue 20)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dbsetup import free_port, portal_env, start_gunicorn, wait_until_up
from tests.auth.test_passwords import release, slot_held_by_another_process
from tests.conftest import Databases


@pytest.fixture
def rush_server(databases: Databases, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn whose one hashing slot another process may hold, with no room to wait:
    every sign-in is refused as busy while it does."""
    lock_dir = tmp_path / "run"
    lock_dir.mkdir()
    port = free_port()
    env = portal_env(
        databases.new(demo=True),
        secret="browser-test",
        fast_hash=True,
        PORTAL_RATELIMIT_LOGIN="1000 per minute",
        PORTAL_WORKERS="1",
        PORTAL_ACCESS_LOG="/dev/null",
        PORTAL_PASSWORD_HASH_LOCK_DIR=str(lock_dir),
        PORTAL_PASSWORD_HASH_CONCURRENCY="1",
        PORTAL_PASSWORD_HASH_QUEUE="0",
        PORTAL_PASSWORD_HASH_RETRY_AFTER="1",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    proc = start_gunicorn(env, port, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(base + "/healthz", proc, log=log):
            raise RuntimeError("gunicorn did not start")
        yield base, lock_dir
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def refused_as_busy(page, url: str, password: str):  # type: ignore[no-untyped-def]
    """Sends the sign-in form at `url` and waits for the page to say it is waiting."""
    page.goto(url)
    page.fill("input[name=username]", "kaifeng-lead")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    status = page.locator("[data-signin-status]")
    status.filter(has_text="登录人数较多").wait_for()
    return status


def test_a_busy_sign_in_waits_and_goes_through_by_itself(rush_server, page) -> None:  # type: ignore[no-untyped-def]
    base, lock_dir = rush_server
    with slot_held_by_another_process(lock_dir) as holder:
        status = refused_as_busy(page, base + "/login?next=/t/kaifeng/duties/", "Demo-2026-pass")
        assert "秒后自动重试" in status.inner_text()
        page.wait_for_timeout(2500)  # refused again at least once, still waiting
        assert "/login" in page.url and "秒后自动重试" in status.inner_text()
        assert page.input_value("input[name=password]") == "Demo-2026-pass"  # kept, not retyped
        assert page.is_disabled("button[type=submit]")  # no second form sent meanwhile
        release(holder)
        page.wait_for_url("**/t/kaifeng/duties/", timeout=15000)  # the page asked for
    assert "kaifeng" in page.url


def test_a_wrong_password_in_a_rush_is_still_just_wrong(rush_server, page) -> None:  # type: ignore[no-untyped-def]
    """After the wait, any other answer is shown as it is (and the form can be used)."""
    base, lock_dir = rush_server
    with slot_held_by_another_process(lock_dir) as holder:
        refused_as_busy(page, base + "/login", "wrong-password-1")
        release(holder)
        page.locator(".flash-error").filter(has_text="用户名或密码错误").wait_for()
    assert page.input_value("input[name=username]") == "kaifeng-lead"
    page.fill("input[name=password]", "Demo-2026-pass")
    page.click("button[type=submit]")
    page.wait_for_url("**/t/kaifeng/")
