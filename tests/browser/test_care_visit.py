"""At 390 px a village contact signs in, sees only their households, records a 中秋 visit
with a photo; the lead's care dashboard then counts one more festival visit done for
the town and the district."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, phone_page, sign_in

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _counts(page, live_server: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/t/zhangdian/care/")
    district = page.inner_text("#festival-counts")
    town = page.inner_text("#care-towns tr.town >> nth=0 >> td.festival")
    return int(district.split("/")[0]), int(town.split("/")[0])


def test_village_contact_records_a_mid_autumn_visit_on_a_phone(
    chromium, live_server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    lead_ctx = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    lead = lead_ctx.new_page()
    sign_in(lead, live_server, "zhangdian-lead")
    before = _counts(lead, live_server)

    page = phone_page(chromium, live_server, "zhangdian-village1")
    page.goto(live_server + "/t/zhangdian/care/mine")
    links = page.locator("#my-households a")
    n = links.count()
    assert 0 < n <= 20  # only the households assigned to this contact
    hrefs = [links.nth(i).get_attribute("href") for i in range(n)]
    target = None
    for href in hrefs:
        page.goto(live_server + href)
        if page.locator("#care-due li[data-festival=mid_autumn][data-state=overdue]").count():
            target = href
            break
    assert target, "no household of this contact has its 中秋 visit outstanding"
    photo = tmp_path / "visit.png"
    photo.write_bytes(PNG)
    page.select_option("#kind", "festival")
    page.select_option("#festival", "mid_autumn")
    page.fill("#visited_on", "2026-09-24")
    page.fill("#findings", "送去月饼和慰问金，老人身体尚可")
    page.set_input_files("#photos", str(photo))
    # the form fits the phone: nothing wider than the window
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    page.click("#visit button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#care-due li[data-festival=mid_autumn][data-state=done]").count() == 1
    assert "送去月饼" in page.inner_text("#care-visits")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "care_visit_390.png"), full_page=True)

    after = _counts(lead, live_server)
    assert after == (before[0] + 1, before[1] + 1)
    assert re.search(r"\d", lead.inner_text("#kpi-festival"))
    page.context.close()
    lead_ctx.close()
