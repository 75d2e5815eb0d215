"""Browser journey (issue 6): the lead prepares the next joint meeting, an officer reports,
the lead holds it (attendance, minutes, decision with an action item), the officer closes
the action item, and the minutes export is a valid .docx with the decision in it.

Issue 13: the attendance form with one error keeps every choice and saves nothing;
fixing it saves all rows. The meeting is held today (attendance is recorded from the
meeting's day)."""

from __future__ import annotations

import io
import re

from docx import Document

from portal.kernel.clock import today
from tests.browser.conftest import sign_in

DECISION = "民政局牵头建立特殊家庭走访台账月报制度"
ACTION = "每月5日前报送上月走访台账"


def test_joint_meeting_journey(live_server: str, page, chromium) -> None:  # type: ignore[no-untyped-def]
    # the lead prepares the next regular meeting
    sign_in(page, live_server, "kaifeng-lead")
    assert page.locator("#meetings-schedule-panel").is_visible()
    page.goto(live_server + "/t/kaifeng/meetings/new")
    day = today().isoformat()
    shown_day = f"{today().year}年{today().month}月{today().day}日"  # as pages show dates
    page.select_option("#period", "2026H2")
    assert page.locator("#period option:checked").inner_text() == "2026年下半年"
    page.fill("#meeting_date", day)
    page.fill("#place", "开封市卫生健康委员会三楼会议室")
    page.click("#new-meeting button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert re.search(r"/meetings/[0-9a-f-]{36}", page.url), page.url
    meeting_url = page.url.split("#")[0]
    agenda = page.locator("#agenda-list > li")
    assert "审议确认上次会议" in agenda.first.inner_text()
    agenda_text = page.inner_text("#agenda-list")
    assert "2026年下半年" in agenda_text and "2026H2" not in agenda_text
    overdue = page.locator('#agenda-list > li[data-source="overdue_duties"]')
    assert overdue.count() <= 1  # overdue as of today, when any duty is
    assert page.locator('#agenda-list > li[data-source="action_items"]').count() == 1

    # the officer sees the invitation and submits the department report
    officer_ctx = chromium.new_context(locale="zh-CN")
    officer = officer_ctx.new_page()
    officer.set_default_timeout(15000)
    sign_in(officer, live_server, "kaifeng-civil-affairs")
    notice = officer.locator("#meeting-invitations li").filter(has_text=shown_day)
    notice.get_by_role("link", name="撰写本单位汇报").click()
    officer.wait_for_load_state("networkidle")
    assert officer.input_value("#body").startswith("## 2026年下半年")
    # the live preview renders what the officer types, as the saved view will
    officer.locator("#body").press("Control+End")
    officer.locator("#body").type("\n\n**预览测试**")
    officer.wait_for_selector(".md-preview-body strong:has-text('预览测试')")
    officer.fill("#families_reached", "36")
    officer.click("#report-form button[value=submit]")
    officer.wait_for_load_state("networkidle")
    assert officer.inner_text("#report-status") == "已报送"

    # the lead sees who submitted, records attendance, minutes and a decision
    page.goto(meeting_url)
    row = page.locator('#report-tracking tr[data-department="civil_affairs"]')
    assert "已报送" in row.inner_text()
    finance = page.locator('#report-tracking tr[data-department="finance"]')
    health = page.locator('#report-tracking tr[data-department="health"]')
    finance.locator("select").select_option("delegate")  # the delegate's name forgotten
    row.locator("select").select_option("present")
    health.locator("select").select_option("absent")
    page.click("#attendance-form button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    # one error: the form comes back with every choice, the message beside the row and a
    # summary at the top of the form, scrolled into view; nothing was saved
    assert page.url.endswith("#attendance-form")
    assert page.locator("#attendance-errors").is_visible()
    assert "请填写代为出席人员的姓名" in finance.inner_text()
    assert finance.locator("select").input_value() == "delegate"
    assert row.locator("select").input_value() == "present"
    assert health.locator("select").input_value() == "absent"
    page.goto(meeting_url)
    assert row.locator("select").input_value() == "unknown"  # nothing saved
    finance.locator("select").select_option("delegate")
    finance.locator('input[name^="delegate-"]').fill("李明（副局长）")
    row.locator("select").select_option("present")
    row.locator("input.attendees").fill("王芳，赵强")  # attendee names, any separator
    health.locator("select").select_option("absent")
    page.click("#attendance-form button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert "出席情况已登记" in page.inner_text("body")
    assert health.locator("select").input_value() == "absent"  # every row saved
    assert row.locator("input.attendees").input_value() == "王芳、赵强"
    page.fill("#minutes-body", "会议听取了各成员单位2026年下半年工作汇报。")
    page.click("#minutes-form button[value=save]")
    page.wait_for_load_state("networkidle")
    page.fill("#decision-text", DECISION)
    page.fill("#action-text", ACTION)
    page.fill("#action-due", "2027-03-31")
    page.check('#decision-form input[data-key="civil_affairs"]')
    page.click("#decision-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    decision = page.locator("#decision-list > li").filter(has_text=DECISION)
    assert decision.count() == 1 and ACTION in decision.inner_text()

    # the officer sees the action item on their home at once and closes it with a note
    # (the live server runs two workers: a panel the other worker kept goes with the
    # write, through the stamps they share, `portal.kernel.memo`)
    officer.goto(live_server + "/t/kaifeng/")
    assert ACTION in officer.inner_text("#meetings-officer-panel")
    officer.goto(live_server + "/t/kaifeng/meetings/action-items")
    item = officer.locator("#action-item-list tr").filter(has_text=ACTION)
    item.locator("input[name=note]").fill("已建立月报制度，1月份台账已报送")
    officer.once("dialog", lambda dialog: dialog.accept())  # closing asks for confirmation
    item.locator("button[value=close]").click()
    officer.wait_for_load_state("networkidle")
    assert "督办事项已办结" in officer.inner_text("body")
    officer.goto(live_server + "/t/kaifeng/meetings/action-items?status=done")
    assert ACTION in officer.inner_text("#action-item-list")
    officer_ctx.close()

    # the meeting page shows the decision done; the minutes export is a valid .docx
    page.goto(meeting_url)
    decision = page.locator("#decision-list > li").filter(has_text=DECISION)
    assert decision.get_attribute("data-state") == "done"
    with page.expect_download() as info:
        page.click("#export-minutes")
    data = open(info.value.path(), "rb").read()  # noqa: PTH123, SIM115
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"一、{DECISION}" in text and ACTION in text and "李明（副局长）代" in text
