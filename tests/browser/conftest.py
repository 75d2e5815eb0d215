"""Browser tests: the real app under gunicorn on a free loopback port, driven by Debian's
Chromium through Playwright (no browser download). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dbsetup import free_port, portal_env, start_gunicorn, wait_until_up
from tests.conftest import ROOT, Databases

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def live_server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of gunicorn serving the portal on a fresh demo database."""
    url = databases.new(demo=True)
    port = free_port()
    uploads = tmp_path_factory.mktemp("uploads")
    env = portal_env(
        url,
        secret="browser-test",
        fast_hash=True,
        PORTAL_UPLOAD_DIR=str(uploads),
        PORTAL_RATELIMIT_LOGIN="1000 per minute",
        PORTAL_WORKERS="2",
        PORTAL_ACCESS_LOG="/dev/null",
    )
    log = (tmp_path_factory.mktemp("gunicorn") / "gunicorn.log").open("w")
    proc = start_gunicorn(env, port, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(base + "/healthz", proc, log=log):
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing; tests/ensure_system.sh installs it")
        pytest.skip("Chromium is not installed (run tests/ensure_system.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page, live_server: str, username: str, password: str = "Demo-2026-pass") -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    # The page's script sends the form (portal/static/signin.js): signed in, the browser
    # goes on to its page; refused, the form comes back with the message.
    page.wait_for_selector("body.with-shell, .flash-error")
    page.wait_for_load_state("networkidle")


def phone_page(chromium, live_server: str, username: str):  # type: ignore[no-untyped-def]
    """A page on a 390 px touch phone (a village contact's or town officer's device),
    signed in as `username`; the caller closes `page.context`."""
    ctx = chromium.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = ctx.new_page()
    page.set_default_timeout(15000)
    sign_in(page, live_server, username)
    return page


def switch_user(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Signs the browser out (its cookies gone) and in again as `username`."""
    page.context.clear_cookies()
    sign_in(page, live_server, username)
