"""Every list page runs on the one list kit (portal/listing.py): sortable by whitelisted
columns, a page size choice, a total, filters kept in the URL, and an Excel export that
holds exactly the filtered rows with Chinese headers; statements do not grow with the
page size; junk in the URL never breaks a page."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.kernel.periods import Period
from tests.conftest import Browser, make_app
from tests.duties.test_query_counts import _statements

PERIOD = Period.current().code

#: (who, list URL with a filter, the sortable keys it offers, whether its export is the kit's)
LISTS = [
    (
        "kaifeng-lead",
        f"/t/kaifeng/duties/?period={PERIOD}&status=open",
        ["measure", "department", "role", "status", "due"],
        True,
    ),
    (
        "kaifeng-lead",
        "/t/kaifeng/duties/review",
        ["period", "measure", "department", "submitted"],
        True,
    ),
    (
        "kaifeng-lead",
        "/t/kaifeng/meetings/",
        ["number", "title", "kind", "date", "place", "state"],
        True,
    ),
    (
        "kaifeng-lead",
        "/t/kaifeng/meetings/action-items?status=all",
        ["text", "department", "meeting", "due", "state"],
        True,
    ),
    (
        "kaifeng-lead",
        "/t/kaifeng/users?role=dept_officer",
        ["username", "name", "role", "department", "state", "last_sign_in"],
        True,
    ),
    ("kaifeng-lead", "/t/kaifeng/notices/", ["title", "posted_by", "posted"], True),
    (
        "kaifeng-civil-affairs",
        "/t/kaifeng/messages/",
        ["kind", "subject", "actor", "received"],
        True,
    ),
    ("operator", "/platform/?status=active", ["name", "province", "slug", "status"], True),
    (
        "kaifeng-health",
        "/t/kaifeng/register/",
        ["number", "name", "category", "registered", "status"],
        False,
    ),
]
IDS = [url.split("?")[0] for _w, url, _k, _e in LISTS]


@pytest.fixture(scope="module")
def list_app(databases):  # type: ignore[no-untyped-def]
    """One demo database for the module: exports add audit events, nothing else changes."""
    application = make_app(databases.new(demo=True))
    yield application
    from portal.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


_browsers: dict[str, Browser] = {}


def _as(app, who: str) -> Browser:  # type: ignore[no-untyped-def]
    if who not in _browsers or _browsers[who].app is not app:
        b = Browser(app)
        assert b.login(who).status_code == 302, who
        _browsers[who] = b
    return _browsers[who]


def _join(url: str, **args: str) -> str:
    extra = "&".join(f"{k}={v}" for k, v in args.items())
    return url + ("&" if "?" in url else "?") + extra


def _total(page: str) -> int:
    found = re.search(r'data-total="(\d+)"', page)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize(("who", "url", "keys", "kit_export"), LISTS, ids=IDS)
def test_sortable_with_total_and_page_size(list_app, who, url, keys, kit_export) -> None:  # type: ignore[no-untyped-def]
    b = _as(list_app, who)
    page = b.get(url).get_data(as_text=True)
    total = _total(page)
    for key in keys:
        for direction in ("", "desc"):
            r = b.get(_join(url, sort=key, dir=direction))
            assert r.status_code == 200, (url, key, direction)
            shown = r.get_data(as_text=True)
            if total:
                assert f'data-sort="{key}"' in shown, (url, key)
                assert _total(shown) == total  # sorting never changes what is listed
    if total:
        # a sorted header links to the other direction and keeps the filter
        filt = url.split("?", 1)[1].split("&")[0] if "?" in url else ""
        shown = b.get(_join(url, sort=keys[0])).get_data(as_text=True)
        assert 'aria-sort="ascending"' in shown
        if filt:
            head = re.search(rf'<a class="sort sorted" href="([^"]+)" data-sort="{keys[0]}"', shown)
            assert head and "dir=desc" in head.group(1) and filt.split("=")[0] in head.group(1)
        # page size: 10 a page, the total unchanged, the pager shown when there is more
        small = b.get(_join(url, per_page="10")).get_data(as_text=True)
        assert _total(small) == total
        assert ('rel="next"' in small) == (total > 10)


@pytest.mark.parametrize(("who", "url", "keys", "kit_export"), LISTS, ids=IDS)
def test_junk_in_the_url_never_breaks_a_list(list_app, who, url, keys, kit_export) -> None:  # type: ignore[no-untyped-def]
    b = _as(list_app, who)
    for junk in (
        {"sort": "id;DROP TABLE users", "dir": "sideways"},
        {"sort": "__class__", "per_page": "1000000"},
        {"per_page": "abc", "page": "-3"},
        {"page": "99999999999999999999"},
    ):
        r = b.get(_join(url, **junk))
        assert r.status_code == 200, (url, junk)


@pytest.mark.parametrize(("who", "url", "keys", "kit_export"), LISTS, ids=IDS)
def test_export_holds_exactly_the_filtered_rows_with_chinese_headers(
    list_app, who, url, keys, kit_export
) -> None:  # type: ignore[no-untyped-def]
    b = _as(list_app, who)
    page = b.get(_join(url, per_page="10")).get_data(as_text=True)
    total = _total(page)
    if not kit_export:
        # the register's own masked export, linked from the same bar with the same filters
        if total:
            assert re.search(r'class="button list-export" href="[^"]*/register/export\.xlsx', page)
        return
    r = b.get(_join(url, export="xlsx", per_page="10"))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = [h for h in rows[0] if h]
    assert headers and all(re.search(r"[\u4e00-\u9fff]", str(h)) for h in headers), headers
    assert len(rows) - 1 == total, (url, len(rows) - 1, total)


def test_export_of_a_narrower_filter_holds_fewer_rows(list_app) -> None:  # type: ignore[no-untyped-def]
    b = _as(list_app, "kaifeng-lead")
    counts = {}
    for status in ("", "accepted", "overdue"):
        url = f"/t/kaifeng/duties/?period={PERIOD}&status={status}&export=xlsx"
        sheet = load_workbook(io.BytesIO(b.get(url).data), read_only=True).active
        counts[status] = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
        page = b.get(f"/t/kaifeng/duties/?period={PERIOD}&status={status}").get_data(as_text=True)
        assert counts[status] == _total(page)
    assert counts[""] >= counts["accepted"] + counts["overdue"]
    assert counts[""] > counts["accepted"]


@pytest.mark.parametrize(("who", "url", "keys", "kit_export"), LISTS, ids=IDS)
def test_statements_do_not_grow_with_the_page_size(list_app, who, url, keys, kit_export) -> None:  # type: ignore[no-untyped-def]
    b = _as(list_app, who)
    b.get(url)  # warm: the session's first page loads the user once
    small = _statements(list_app, b, _join(url, per_page="10", sort=keys[0]))
    large = _statements(list_app, b, _join(url, per_page="100", sort=keys[0]))
    assert large <= small + 1, (url, small, large)  # +1: a full first page counts its total


def test_list_exports_are_audited(list_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    b = _as(list_app, "kaifeng-lead")
    r = b.get("/t/kaifeng/meetings/?export=xlsx")
    assert r.status_code == 200
    with list_app.app_context(), scope.cross_tenant("test"):
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        event = db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == tid, AuditEvent.action == "export")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()
        assert event.entity_type == "list" and event.entity_id == "meetings.index"


def test_the_demo_fills_the_lists_this_module_checks(list_app) -> None:  # type: ignore[no-untyped-def]
    """The checks above mean something only on lists with rows (and some with pages)."""
    totals = {
        url: _total(_as(list_app, who).get(url).get_data(as_text=True))
        for who, url, _k, _e in LISTS
    }
    empty = [url for url, n in totals.items() if n == 0]
    assert len(empty) <= 2, totals
    assert any(n > 10 for n in totals.values()), totals


#: Lists whose export is their domain's own (audit trail, register, roster) or a page of its
#: own (a cycle's lines), checked like the kit's: (who, filtered list URL, the column whose
#: distinct values count the list's rows — the register exports one row per person — or
#: None when each row is one of the list's). `{cycle}`: the oldest payment cycle (closed, paid).
OWN_EXPORTS = [
    ("kaifeng-lead", "/t/kaifeng/audit/?q=签报", None),
    ("kaifeng-auditor", "/t/kaifeng/audit/logins", None),
    ("operator", "/platform/audit/", None),
    ("kaifeng-health", "/t/kaifeng/register/?status=registered", 0),
    ("kaifeng-town1", "/t/kaifeng/care/roster", None),
    ("kaifeng-town1", "/t/kaifeng/care/contacts", None),
    ("kaifeng-lead", "/t/kaifeng/care/households?figure=contact_missing", None),
    ("kaifeng-health", "/t/kaifeng/register/requests?status=confirmed", None),
    ("kaifeng-town1", "/t/kaifeng/register/requests?status=all", None),
    ("kaifeng-finance", "/t/kaifeng/benefits/", None),
    ("kaifeng-finance", "/t/kaifeng/benefits/claims", None),
    ("kaifeng-health", "/t/kaifeng/benefits/cycles/{cycle}?status=paid", None),
    ("kaifeng-finance", "/t/kaifeng/benefits/cycles/{cycle}?kind=regular&q=D000001", None),
]
EXPORT_CASES = [(w, u, None) for w, u, _k, kit in LISTS if kit] + OWN_EXPORTS
EXPORT_IDS = [
    u.split("?")[0].replace("{cycle}", "cycle") + "?" + u.partition("?")[2]
    for _w, u, _c in EXPORT_CASES
]


def _resolve(b: Browser, url: str) -> str:
    if "{cycle}" not in url:
        return url
    page = b.get("/t/kaifeng/benefits/").get_data(as_text=True)
    cycles = re.findall(r'href="/t/kaifeng/benefits/cycles/([0-9a-f-]{36})"', page)
    assert cycles, "the demo has payment cycles"
    return url.replace("{cycle}", cycles[-1])  # the oldest: closed, its lines paid


@pytest.mark.parametrize(("who", "url", "distinct"), EXPORT_CASES, ids=EXPORT_IDS)
def test_every_list_exports_exactly_its_filtered_rows(list_app, who, url, distinct) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: the list's own Excel link (as the page shows it, with the page's filter)
    opens in openpyxl with Chinese headers and as many rows as the list's total."""
    import html

    b = _as(list_app, who)
    raw, url = url, _resolve(b, url)
    page = b.get(url).get_data(as_text=True)
    total = _total(page)
    links = re.findall(r'<a [^>]*class="[^"]*\blist-export\b[^"]*"[^>]*href="([^"]+)"', page)
    if not links and total == 0:
        return  # an empty list offers nothing to export (the demo fills most: see below)
    assert links, f"{url}: no Excel export link"
    r = b.get(html.unescape(links[0]))
    assert r.status_code == 200, (url, links[0], r.status_code)
    assert r.mimetype.endswith("spreadsheetml.sheet"), r.mimetype
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).active
    rows = [
        row for row in sheet.iter_rows(values_only=True) if any(c not in (None, "") for c in row)
    ]
    headers = [h for h in rows[0] if h]
    assert headers and all(re.search(r"[\u4e00-\u9fff]", str(h)) for h in headers), headers
    body = rows[1:]
    shown = len({row[distinct] for row in body}) if distinct is not None else len(body)
    assert shown == total, (url, shown, total)
    if (who, raw, distinct) in OWN_EXPORTS:
        assert total > 0, f"{url}: the demo should fill this list"


def test_an_export_follows_the_filter(list_app) -> None:  # type: ignore[no-untyped-def]
    """The cycle's lines: a narrower filter exports fewer rows, each of the filtered kind."""
    b = _as(list_app, "kaifeng-health")
    base = _resolve(b, "/t/kaifeng/benefits/cycles/{cycle}")
    every = load_workbook(io.BytesIO(b.get(base + "?export=xlsx").data), read_only=True).active
    paid = load_workbook(
        io.BytesIO(b.get(base + "?status=paid&kind=regular&export=xlsx").data), read_only=True
    ).active
    all_rows = list(every.iter_rows(values_only=True))[1:]
    paid_rows = list(paid.iter_rows(values_only=True))[1:]
    assert 0 < len(paid_rows) <= len(all_rows)
    header = next(paid.iter_rows(values_only=True))
    status_col, kind_col = header.index("状态"), header.index("类型")
    assert {r[status_col] for r in paid_rows} == {"已发放"}, {r[status_col] for r in paid_rows}
    assert len({r[kind_col] for r in paid_rows}) == 1
