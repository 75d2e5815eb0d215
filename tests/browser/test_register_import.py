"""In a real browser: a town officer imports a 50-row 名册 with 3 bad rows, sees the three
errors by row and column, downloads the rejected rows and imports the rest; the 卫健
officer confirms the batch; the lead finds the households in the register, masked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import sign_in, switch_user
from tests.register.test_import import sheet

pytestmark = pytest.mark.browser


def test_town_officer_imports_and_health_confirms(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    data, ids = sheet()
    sign_in(page, live_server, "kaifeng-town1")
    page.goto(live_server + "/t/kaifeng/register/import")
    page.set_input_files(
        "#upload-form input[name=file]",
        files=[
            {
                "name": "名册.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": data,
            }
        ],
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("#import", "data-stage") == "map"
    assert page.input_value("#map_id_number") == "身份证号"
    # the progress bar waits hidden (register_import.js shows it on submit and polls)
    assert page.locator("#import-progress").is_hidden()
    page.click("button[value=preview]")
    page.wait_for_load_state("networkidle")
    assert "共 50 行：47 行有效，3 行有错误" in page.inner_text("#import-counts")
    rows = page.locator("#import-errors tbody tr")
    assert rows.count() == 3
    cells = [rows.nth(i).inner_text().split("\t") for i in range(3)]
    assert [(c[0].strip(), c[1].strip()) for c in cells] == [
        ("5", "身份证号"),
        ("12", "村居"),
        ("30", "配偶身份证号"),
    ]
    with page.expect_download() as download:
        page.click("#download-rejected")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rejected = list(workbook.active.iter_rows(values_only=True))
    assert len(rejected) == 4 and rejected[0][-1] == "原因"
    page.click("#import-valid")
    page.wait_for_load_state("networkidle")
    assert "47 行已生成信息变更申请" in page.inner_text("body")

    switch_user(page, live_server, "kaifeng-health")
    page.goto(live_server + "/t/kaifeng/register/requests")
    page.click("form.batch button")
    page.wait_for_load_state("networkidle")
    assert "已确认 47 条申请" in page.inner_text("body")

    switch_user(page, live_server, "kaifeng-lead")
    page.goto(live_server + "/t/kaifeng/register/")
    page.fill("#q", "导入")
    page.click("#register-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#register-list tbody tr").count() == 25  # 47 found, first page
    page.click("#register-list tbody tr:first-child a")
    page.wait_for_load_state("networkidle")
    members = page.inner_text("#members")
    assert "**********" in members and not [i for i in ids if i in page.content()]
