"""Issue 13/19: the lead's back office in Chromium: Chinese menus and columns, no console
errors (CSP), menus that open, tables that scroll inside their container."""

from __future__ import annotations

import re

from tests.browser.conftest import sign_in

ASCII_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
# Proper names and units that stay as they are in zh mode.
ALLOWED = {"SHA"}


def test_lead_back_office_is_chinese_and_csp_clean(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    sign_in(page, live_server, "kaifeng-lead")
    for table in ("action_items", "duties", "departments", "users"):
        page.goto(f"{live_server}/t/kaifeng/admin/{table}/")
        page.wait_for_load_state("networkidle")
        nav = page.inner_text("nav")
        headers = " ".join(page.locator("table.model-list thead th").all_inner_texts())
        english = set(ASCII_WORD.findall(nav + " " + headers)) - ALLOWED
        assert not english, (table, english)
        texts = page.locator("table.model-list tbody td").all_inner_texts()
        cells = " ".join(texts)
        assert not re.search(r"\b(in_progress|not_started|district_lead|dept_officer)\b", cells)
        assert not [t for t in texts if re.fullmatch(r"\s*\d{4}H[12]\s*", t)], table
        assert not re.search(r"\d:\d\d:\d\d\.\d", cells), table  # raw UTC datetimes
    # the records menu opens (Bootstrap handles the click; no inline handler needed)
    page.click("a.dropdown-toggle")
    assert page.locator(".dropdown-menu.show").count() >= 1
    # the brand link leads to the back office home, not a 404
    page.click("a.navbar-brand")
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/").endswith("/t/kaifeng/admin")
    # wide tables scroll inside their container instead of widening the page
    page.goto(f"{live_server}/t/kaifeng/admin/duties/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1300, width
    missing = [u for u in missing if not u.endswith("/favicon.ico")]
    assert not missing, missing
    errors = [e for e in errors if not e.startswith("Failed to load resource") or missing]
    assert not errors, errors
