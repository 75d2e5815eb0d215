"""The shell in a real browser: every main page of each role at 1366 px and at 390 px
fits the window (tables scroll inside their cards), logs no console error and shows the
current menu item; the lead's dashboard draws its charts from the same numbers as its
status table, and a bar opens the duty list filtered to exactly that count."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import KAIFENG_USERS

pytestmark = pytest.mark.browser

#: One login of every demo role (tests/workspace/test_menu_coverage.py checks that these
#: users between them open every registered menu item and every role).
USERS = (*KAIFENG_USERS, "operator")
#: The account pages of the user menu (every role has them).
ACCOUNT_PAGES = ("/account/password", "/account/tokens")
#: At least this many menu items per user: the menu is read from the page, so a menu that
#: failed to render must not pass as an empty list.
MIN_ITEMS = {
    "kaifeng-lead": 15,
    "kaifeng-auditor": 8,
    "kaifeng-civil-affairs": 5,
    "kaifeng-health": 8,
    "kaifeng-finance": 6,
    "kaifeng-town1": 4,
    "kaifeng-village1": 2,
    "operator": 5,
}
#: Detail pages: each list's first record (a duty, a meeting, a household, a cycle …) is
#: opened from the list page; links that download, sort, page or filter are not details.
NOT_DETAIL = re.compile(
    r"\.(xlsx|docx|csv|jsonl|zip)(\?|$)|[?&](sort|page|per_page|export|status|period|figure)="
)
#: Every detail page of a role reached this way must include these (so the walk is real).
MUST_OPEN = {
    "kaifeng-lead": ("/duties/", "/meetings/", "/register/households/"),
    "kaifeng-civil-affairs": ("/duties/",),
    "kaifeng-health": ("/register/households/", "/benefits/cycles/"),
    "kaifeng-village1": ("/care/households/",),
    "operator": ("/platform/audit/",),
}

ACTIVE = ".sidebar [aria-current=page], .user-menu [aria-current=page]"

# Text that must never break one character per line: every visible text node of the page
# (menu labels, status tags, buttons, table cells …) whose lines, counted from the text's
# own line boxes, hold about one or two characters each, in a box narrower than four
# characters. Answers (text, lines, tag, the box's width).
BROKEN_TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, '');
    if (text.length < 2) continue;
    const parent = node.parentElement;
    if (!parent || !parent.offsetParent || parent.closest('script, style, .sr-only')) continue;
    range.selectNodeContents(node);
    const tops = new Set();
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    const lines = tops.size;
    if (lines < 2 || text.length / lines > 2) continue;
    // a word that merely wraps at the end of a line of running text is fine; the fault is
    // a box squeezed narrower than a few characters (a cell, a tag, a menu label)
    let block = parent;
    while (block.parentElement && getComputedStyle(block).display.startsWith('inline')) {
      block = block.parentElement;
    }
    const cs = getComputedStyle(block);
    const inner = block.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (inner < 4 * parseFloat(cs.fontSize)) out.push([text, lines, parent.tagName, inner]);
  }
  return out;
}"""


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower())[:80] or "home"


def _menu(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The sidebar's links, in menu order (what this role may open)."""
    return page.evaluate(
        "[...document.querySelectorAll('#sidebar a.nav-link')].map(a => a.getAttribute('href'))"
    )


def _first_detail(page, path: str) -> str | None:  # type: ignore[no-untyped-def]
    """The first record linked from the list on this page (inside its table or cards)."""
    hrefs = page.evaluate(
        """() => [...document.querySelectorAll('main table tbody a[href], main .cards a[href], main .care-list a[href]')]
            .filter(a => !a.hasAttribute('download'))
            .map(a => a.getAttribute('href'))"""
    )
    base = path.split("?", 1)[0].rstrip("/")
    for href in hrefs:
        if not href.startswith("/") or NOT_DETAIL.search(href):
            continue
        if href.split("?", 1)[0].rstrip("/") == base:
            continue
        return href
    return None


# The walk checks layout, not storage: in CI (two backends side by side) each width is
# walked once — the desktop on PostgreSQL, the phone on SQLite — so the two runs stay even.
CI_WIDTH = {"postgres": 1366, "sqlite": 390}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("username", USERS)
def test_main_pages_fit_and_show_the_current_item(
    chromium, live_server: str, username: str, width: int
) -> None:  # type: ignore[no-untyped-def]
    """Every menu item of the role (read from its own menu), its account pages and the
    first record of each list: 200, no horizontal scroll, no console error, the current
    item marked, no label broken one character per line; a screenshot of each."""
    backend = os.environ.get("PORTAL_TEST_BACKEND", "")
    if os.environ.get("CI") == "true" and CI_WIDTH.get(backend, width) != width:
        pytest.skip(f"in CI the {width} px walk runs on the other backend")
    context = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    problems: list[str] = []
    try:
        sign_in(page, live_server, username)
        ARTIFACTS.mkdir(exist_ok=True)
        menu = _menu(page)
        assert len(menu) >= MIN_ITEMS[username], menu
        visited: list[str] = []
        details: list[str] = []

        def visit(path: str) -> None:
            errors.clear()
            response = page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            visited.append(path)
            shot = ARTIFACTS / f"workspace-{username}-{width}-{_name(path)}.png"
            page.screenshot(path=str(shot))
            if response is None or response.status != 200:
                problems.append(f"{path}: status {response and response.status}")
                return
            sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if sw > iw:
                problems.append(f"{path}: scrollWidth {sw} > {iw}")
            if page.locator(ACTIVE).count() < 1:
                problems.append(f"{path}: no current menu item")
            if errors:
                problems.append(f"{path}: console {errors[:3]}")
            if width == 390:
                broken = page.evaluate(BROKEN_TEXT_JS)
                if broken:
                    problems.append(f"{path}: labels one character per line {broken[:6]}")
                if page.locator("#sidebar").is_visible() and not page.evaluate(
                    "document.getElementById('sidebar').getBoundingClientRect().right <= 0"
                ):
                    problems.append(f"{path}: the menu drawer is open")

        for path in menu:
            visit(path)
            detail = _first_detail(page, path)
            if detail and detail not in details and detail not in menu:
                details.append(detail)
        for path in details:
            visit(path)
        for path in ACCOUNT_PAGES:
            visit(path)
        for part in MUST_OPEN.get(username, ()):
            assert any(part in d for d in details), (part, details)
        if width == 390:
            # the menu is a drawer: opened by its button, every label on one line
            page.click("#menu-toggle")
            page.wait_for_timeout(300)
            assert page.evaluate(
                "document.getElementById('sidebar').getBoundingClientRect().left >= 0"
            )
            heights = page.evaluate(
                "[...document.querySelectorAll('.nav-label, .badge, button')]"
                ".filter(e => e.offsetParent)"
                ".map(e => [e.textContent.trim(), e.getBoundingClientRect().height])"
            )
            tall = [t for t, h in heights if t and h > 40]
            assert not tall, tall
        assert not problems, f"{len(visited)} pages, problems:\n" + "\n".join(problems)
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
