"""The auditor reads the trail in a real browser (issue 13): 签报 finds the sign-offs, the
officer's name filters, the Excel export opens with Chinese headers, no row shows a code or id."""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import sign_in, switch_user

pytestmark = pytest.mark.browser

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b|\b(?:create|update|delete|login|logout|export)\b")


OFFICER = "开封市民政局经办人"  # kaifeng-civil-affairs in the demo


def _rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("table.audit-table tbody tr").all_inner_texts()


def test_auditor_searches_filters_and_exports(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "kaifeng-civil-affairs")  # an officer with a sign-in of their own
    switch_user(page, live_server, "kaifeng-auditor")
    page.goto(live_server + "/t/kaifeng/audit/")
    rows = _rows(page)
    assert len(rows) == 50
    for text in rows:
        assert not UUID.search(text) and not CODE.search(text), text
    # search 签报: the sign-off events
    page.fill("#q", "签报")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = _rows(page)
    assert rows and any("职责签报" in r for r in rows)
    # the person filter takes the officer's name, not their login
    page.goto(live_server + "/t/kaifeng/audit/")
    name = OFFICER
    page.fill("#actor", name)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = _rows(page)
    assert rows and all(name in r for r in rows)
    # the Excel export of that view opens in openpyxl with Chinese headers
    with page.expect_download() as info:
        page.click("text=Excel")
    from openpyxl import load_workbook

    data = info.value.path().read_bytes()
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in next(sheet.iter_rows())]
    assert header[:4] == ["序号", "时间", "操作人", "角色"] and "操作" in header
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert body and all(row[2] == name for row in body)
