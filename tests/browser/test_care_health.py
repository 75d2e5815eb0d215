"""At 390 px a town officer records a member's family-doctor contract and a check-up on
a household's care tab; the forms fit the phone and a refused entry keeps its input."""

from __future__ import annotations

import pytest

from tests.browser.conftest import phone_page

pytestmark = pytest.mark.browser


def test_town_officer_records_a_contract_and_a_checkup_on_a_phone(chromium, live_server) -> None:  # type: ignore[no-untyped-def]
    page = phone_page(chromium, live_server, "kaifeng-town1")
    page.goto(live_server + "/t/kaifeng/care/mine")
    page.goto(live_server + page.locator("#my-households a").first.get_attribute("href"))
    assert page.locator("#contract").count() == 1 and page.locator("#checkup").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    # no doctor: refused beside the field, the institution kept
    page.fill("#contract-institution", "城关社区卫生服务中心")
    page.fill("#signed_on", "2026-03-01")
    page.click("#contract button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#contract .error-text").count() == 1
    assert page.input_value("#contract-institution") == "城关社区卫生服务中心"
    page.fill("#doctor", "王医生")
    page.click("#contract button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "王医生" in page.inner_text("#care-contracts")
    page.fill("#done_on", "2026-05-02")
    page.fill("#checkup-institution", "区人民医院")
    page.click("#checkup button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "区人民医院" in page.inner_text("#care-checkups")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    page.context.close()
