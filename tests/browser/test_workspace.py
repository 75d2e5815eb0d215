"""The shell in a real browser: every main page of each role at 1366 px and at 390 px
fits the window (tables scroll inside their cards), logs no console error and shows the
current menu item; the lead's dashboard draws its charts from the same numbers as its
status table, and a bar opens the duty list filtered to exactly that count."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser

PAGES = {
    "kaifeng-lead": [
        "/t/kaifeng/",
        "/t/kaifeng/duties/",
        "/t/kaifeng/duties/review",
        "/t/kaifeng/meetings/",
        "/t/kaifeng/meetings/action-items",
        "/t/kaifeng/meetings/new",
        "/t/kaifeng/meetings/arrangement",
        "/t/kaifeng/policy/",
        "/t/kaifeng/audit/",
        "/t/kaifeng/audit/logins",
        "/t/kaifeng/users",
        "/t/kaifeng/departments",
        "/t/kaifeng/messages/",
        "/t/kaifeng/notices/",
        "/t/kaifeng/online",
        "/account/password",
        "/account/tokens",
    ],
    "kaifeng-civil-affairs": [
        "/t/kaifeng/",
        "/t/kaifeng/duties/",
        "/t/kaifeng/meetings/",
        "/t/kaifeng/meetings/action-items",
        "/t/kaifeng/policy/",
        "/t/kaifeng/messages/",
        "/t/kaifeng/notices/",
        "/account/password",
    ],
    "kaifeng-health": [
        "/t/kaifeng/",
        "/t/kaifeng/register/",
        "/t/kaifeng/register/requests",
        "/t/kaifeng/duties/",
        "/t/kaifeng/messages/",
    ],
    "kaifeng-auditor": [
        "/t/kaifeng/",
        "/t/kaifeng/duties/",
        "/t/kaifeng/audit/",
        "/t/kaifeng/meetings/",
        "/t/kaifeng/policy/",
    ],
    "operator": [
        "/platform/",
        "/platform/onboard",
        "/platform/audit/",
        "/platform/notices",
        "/platform/online",
        "/account/tokens",
    ],
}

ACTIVE = ".sidebar [aria-current=page], .user-menu [aria-current=page]"


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("username", list(PAGES))
def test_main_pages_fit_and_show_the_current_item(
    chromium, live_server: str, username: str, width: int
) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, live_server, username)
        ARTIFACTS.mkdir(exist_ok=True)
        for path in PAGES[username]:
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, (path, response)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "home"
            page.screenshot(path=str(ARTIFACTS / f"workspace-{username}-{width}-{name}.png"))
            assert overflow[0] <= overflow[1], (path, overflow)
            assert page.locator(ACTIVE).count() >= 1, f"no current menu item on {path}"
            assert not errors, (path, errors)
            if width == 390:
                # the menu is a drawer: closed, and opened by its button
                assert not page.locator("#sidebar").is_visible() or page.evaluate(
                    "document.getElementById('sidebar').getBoundingClientRect().right <= 0"
                )
        if width == 390:
            page.click("#menu-toggle")
            page.wait_for_timeout(300)
            assert page.evaluate(
                "document.getElementById('sidebar').getBoundingClientRect().left >= 0"
            )
            # no menu label breaks one character per line: each fits on one line
            heights = page.evaluate(
                "[...document.querySelectorAll('.nav-label, .badge, button')]"
                ".filter(e => e.offsetParent)"
                ".map(e => [e.textContent.trim(), e.getBoundingClientRect().height])"
            )
            tall = [t for t, h in heights if t and h > 40]
            assert not tall, tall
    finally:
        context.close()


def test_lead_dashboard_draws_its_charts_and_a_bar_opens_the_list(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(reduced_motion="reduce")  # the bars are where they end up at once
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "kaifeng-lead")
    period = "2026H1"  # a closed half-year of the demo: every status is present
    page.goto(f"{live_server}/t/kaifeng/?period={period}")
    page.wait_for_function("window.portalCharts && window.portalCharts.departments")
    names = page.evaluate("Object.keys(window.portalCharts).sort()")
    assert names == ["actions", "departments", "ranking", "trend"] or names == [
        "actions",
        "departments",
        "trend",
    ]
    sums = page.evaluate(
        """() => {
          const opt = window.portalCharts.departments.getOption();
          return opt.series.map(s => [s.name, s.data.reduce((a, b) => a + b, 0)]);
        }"""
    )
    table = page.evaluate(
        """() => [...document.querySelectorAll('#dept-status-table tfoot [data-status-total]')]
            .map(th => [th.dataset.statusTotal, Number(th.textContent)])"""
    )
    assert [n for _, n in sums] == [n for _, n in table]
    assert sum(n for _, n in sums) == int(page.inner_text("#status-total"))
    assert sum(n for _, n in sums) > 0
    # the numbers are behind a toggle
    assert not page.is_visible("#dept-status-table")
    page.click("#chart-departments-card button[data-toggle-table]")
    assert page.is_visible("#dept-status-table")
    # click the middle of the first non-empty bar segment
    target = page.evaluate(
        """() => {
          const chart = window.portalCharts.departments;
          const opt = chart.getOption();
          for (let s = 0; s < opt.series.length; s++) {
            const data = opt.series[s].data;
            for (let i = 0; i < data.length; i++) {
              if (data[i] > 0) {
                let before = 0;
                for (let k = 0; k < s; k++) before += opt.series[k].data[i];
                const [x, y] = chart.convertToPixel({gridIndex: 0}, [before + data[i] / 2, i]);
                const box = chart.getDom().getBoundingClientRect();
                return {x: box.left + x, y: box.top + y, n: data[i]};
              }
            }
          }
          return null;
        }"""
    )
    assert target is not None
    page.mouse.click(target["x"], target["y"])
    page.wait_for_url(re.compile(r"/t/kaifeng/duties/\?.*department="))
    assert f"period={period}" in page.url and "status=" in page.url
    assert page.locator("#duty-list tbody tr").count() == target["n"]
    assert not errors


def test_operator_dashboard_draws_districts_by_status(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """The console home: the status chart sums to its table, a slice opens the filtered
    list, the failures chart and the key figures are there; no console error."""
    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server}/platform/")
    page.wait_for_function("window.portalCharts && window.portalCharts.status")
    assert "failures" in page.evaluate("Object.keys(window.portalCharts)")
    chart_sum = page.evaluate(
        """() => window.portalCharts.status.getOption().series[0].data
            .reduce((a, d) => a + d.value, 0)"""
    )
    table_sum = page.evaluate(
        """() => [...document.querySelectorAll('#status-table [data-status-count]')]
            .reduce((a, td) => a + Number(td.textContent), 0)"""
    )
    assert chart_sum == table_sum and chart_sum >= 4
    assert not page.is_visible("#status-table")
    page.click("#chart-status-card button[data-toggle-table]")
    assert page.is_visible("#status-table")
    active = int(page.inner_text('#status-table [data-status-count="active"]'))
    page.click('#status-table a[href*="status=active"]')
    page.wait_for_url(re.compile(r"/platform/\?status=active"))
    assert page.locator("#tenant-list tbody tr").count() == active
    assert page.inner_text("#kpi-online .value").strip().isdigit()
    assert not errors, errors


def test_department_picker_searches_at_phone_width(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """Choosing invited departments: type to narrow the list, tick, the count follows;
    at 390 px the picker fits and no name breaks one character per line."""
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, live_server, "kaifeng-lead")
    page.goto(f"{live_server}/t/kaifeng/meetings/new")
    picker = page.locator("#departments-picker")
    assert picker.locator(".picker-search").is_visible()
    total = picker.locator(".picker-item").count()
    assert total > 5
    page.click("#departments-picker [data-picker-none]")
    assert "已选 0 个" in picker.locator("[data-picker-count]").inner_text()
    picker.locator(".picker-search").fill("民政")
    shown = picker.locator(".picker-item:visible")
    assert 1 <= shown.count() < total
    page.click("#departments-picker [data-picker-all]")
    n = shown.count()
    assert f"已选 {n} 个" in picker.locator("[data-picker-count]").inner_text()
    picker.locator(".picker-search").fill("")
    assert picker.locator(".picker-item:visible").count() == total
    assert picker.locator("input[type=checkbox]:checked").count() == n
    overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    heights = page.evaluate(
        "[...document.querySelectorAll('#departments-picker .picker-item span')]"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert max(heights) < 60, heights
    page.screenshot(path=str(ARTIFACTS / "workspace-department-picker-390.png"))
