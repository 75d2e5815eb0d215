"""In a real browser: an officer logs work with evidence and signs off; the lead returns it,
the officer signs off again, and the lead accepts."""

from __future__ import annotations

import re

from tests.browser.conftest import sign_in, switch_user


def _sign_off_fully(page, statement: str) -> None:  # type: ignore[no-untyped-def]
    """The officer signs the open duty page off as fully delivered; it is then submitted."""
    page.select_option("select[name=assessment]", "fully")
    page.fill("textarea[name=statement]", statement)
    page.click("#sign-off button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("#duty", "data-status") == "submitted"


def test_officer_logs_and_signs_off_lead_reviews(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.on("dialog", lambda dialog: dialog.accept())  # the sign-off confirmation
    sign_in(page, live_server, "kaifeng-civil-affairs")
    assert "您的待办职责" in page.inner_text("#open-duties-panel")
    page.goto(live_server + "/t/kaifeng/duties/?status=not_started")
    page.click("#duty-list tbody tr:first-child a")
    duty_url = page.url
    assert re.search(r"/t/kaifeng/duties/[0-9a-f-]{36}$", duty_url)
    assert page.get_attribute("#duty", "data-status") == "not_started"

    page.fill("textarea[name=narrative]", "入户走访失独家庭 6 户，发放慰问金并登记诉求。")
    page.fill("input[name=families_reached]", "6")
    page.fill("input[name=amount_paid]", "18.005")  # three decimals: refused, input kept
    page.click("#add-entry button[type=submit]")
    page.wait_for_load_state("networkidle")
    error = page.locator("#add-entry .field.has-error .error-text")
    assert error.count() == 1 and "最多两位小数" in error.inner_text()
    assert "金额" not in error.inner_text()  # the message does not repeat the label
    assert page.input_value("textarea[name=narrative]").startswith("入户走访失独家庭")
    assert page.input_value("input[name=families_reached]") == "6"
    assert page.locator("#add-entry label[for=narrative] .required-mark").count() == 1
    page.fill("input[name=amount_paid]", "1800")
    page.set_input_files(
        "input[name=files]",
        files=[{"name": "走访台账.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 demo"}],
    )
    page.click("#add-entry button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "工作记录已保存" in page.inner_text("body")
    assert page.get_attribute("#duty", "data-status") == "in_progress"
    assert "走访台账.pdf" in page.inner_text("#entry-list")

    _sign_off_fully(page, "本期已全面落实走访慰问工作。")

    switch_user(page, live_server, "kaifeng-lead")
    page.click("#chart-departments-card button[data-toggle-table]")  # the numbers behind the chart
    assert page.locator("#duty-matrix").is_visible()
    page.goto(live_server + "/t/kaifeng/duties/review")
    page.click(f"#review-list a[href*='{duty_url.rsplit('/', 1)[1]}']")
    page.fill("#review textarea[name=reason]", "请补充受益家庭名单。")
    page.click("#review button[value=return]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("#duty", "data-status") == "returned"

    switch_user(page, live_server, "kaifeng-civil-affairs")
    page.goto(duty_url)
    assert "请补充受益家庭名单" in page.inner_text("#return-reason")
    _sign_off_fully(page, "已补充受益家庭名单。")

    switch_user(page, live_server, "kaifeng-lead")
    page.goto(duty_url)
    page.click("#review button[value=accept]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("#duty", "data-status") == "accepted"
    assert "已通过" in page.inner_text("#duty")
    shown = page.inner_text("body")
    assert "UTC" not in shown and not re.search(r"\d{4}H[12]", shown)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", page.inner_text("#history"))
