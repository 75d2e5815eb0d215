"""A district lead records a raised benefit amount in the browser; the old one is kept."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_lead_adds_a_dated_amount(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "jiading-lead")
    page.goto(live_server + "/t/jiading/policy/")
    assert "嘉卫人口〔2023〕2号" in page.inner_text("#policy-meta")
    page.locator("a", has_text="新增标准金额").first.click()
    page.fill("#amount", "-1")
    page.fill("#effective_from", "2027-01-01")
    page.fill("#source", "嘉卫人口〔2026〕9号")
    page.click("#value-form button[type=submit]")
    assert "金额必须为正数" in page.inner_text("body")  # field error, nothing saved
    page.fill("#amount", "3600")
    page.click("#value-form button[type=submit]")
    page.wait_for_url("**/t/jiading/policy/**")
    body = page.inner_text("#measures")
    assert "3600" in body and "2027年1月1日" in body and "3000" in body  # dates in the one format
