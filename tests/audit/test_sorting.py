"""The trail sorts by its columns like every list (issue 15), by keyset pages that stay
cheap on a long trail (issue 13): order, paging, kept filters, bad input, statements."""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.audit.test_viewer import _events, _ids, _seqs, answers_200
from tests.conftest import statements

#: ?sort= key → the stored column it orders by (then seq, in the same direction).
KEYS = {
    "time": "seq",
    "actor": "actor_name",
    "action": "action",
    "record_type": "entity_type",
}


def _expected(events, key: str, desc: bool) -> list[int]:  # type: ignore[no-untyped-def]
    column = KEYS[key]
    ordered = sorted(events, key=lambda e: (getattr(e, column), e.seq), reverse=desc)
    return [e.seq for e in ordered]


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize("desc", [False, True])
def test_each_column_sorts_and_pages_without_overlap(app, login_as, key, desc) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")  # signing in adds an event: read the trail after it
    expected = _expected(_events(app, _ids(app, "kaifeng")), key, desc)
    url = f"/t/kaifeng/audit/?sort={key}" + ("&dir=desc" if desc else "")
    first = b.get(url).get_data(as_text=True)
    assert _seqs(first) == expected[:50]
    # the header shows the arrow of the chosen direction on the chosen column only
    header = re.search(
        rf'<th scope="col" aria-sort="(\w+)"><a class="sort sorted"[^>]*data-sort="{key}"', first
    )
    assert header and header.group(1) == ("descending" if desc else "ascending")
    assert ("▼" if desc else "▲") in first
    # the next page continues the order exactly; the previous page comes back
    second = b.get(_link(first, "next")).get_data(as_text=True)
    assert _seqs(second) == expected[50:100]
    assert _seqs(b.get(_link(second, "prev")).get_data(as_text=True)) == expected[:50]


def test_sorting_keeps_the_filters_and_the_filter_form_keeps_the_sort(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    tid = _ids(app, "kaifeng")
    page = b.get("/t/kaifeng/audit/?action=update&entity_type=Duty").get_data(as_text=True)
    actor_link = html.unescape(re.search(r'href="([^"]*)" data-sort="actor"', page).group(1))
    assert "action=update" in actor_link and "entity_type=Duty" in actor_link
    sorted_page = b.get(actor_link).get_data(as_text=True)
    updates = [e for e in _events(app, tid, action="update", entity_type="Duty")]
    assert _seqs(sorted_page) == _expected(updates, "actor", False)[:50]
    # the filter form carries the sort, the pager and the export links carry both
    form = re.search(r'<form method="get" class="filters row".*?</form>', sorted_page, re.S)
    assert form and 'name="sort" value="actor"' in form.group(0)
    assert re.search(r'export\.xlsx\?[^"]*sort=actor', sorted_page)
    next_link = _link(sorted_page, "next")
    if next_link:
        assert "sort=actor" in next_link and "action=update" in next_link


def test_bad_sort_and_cursor_values_never_fail(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    default = _seqs(b.get("/t/kaifeng/audit/").get_data(as_text=True))
    answers_200(
        b,
        "sort=seq%3Bdrop%20table%20audit_events",
        "sort=hash",
        "sort=__class__",
        "sort=time&dir=sideways",
        "sort=actor&before=not-a-number",
        "sort=actor&after=-1",
        "sort=action&before=99999999999999999999",
        "sort=record_type&after=0&before=5",
        "per_page=9999&sort=actor",
    )
    assert b.get("/t/kaifeng/audit/?sort=%00&dir=%00").status_code == 400  # NUL: refused
    # an unknown key is ignored, as on every list: the newest first
    assert _seqs(b.get("/t/kaifeng/audit/?sort=hash").get_data(as_text=True)) == default
    # a cursor naming no event gives an empty page, not an error
    page = b.get("/t/kaifeng/audit/?sort=actor&before=99999999").get_data(as_text=True)
    assert not _seqs(page)


def test_a_sorted_filtered_page_costs_a_bounded_number_of_statements(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    for url in (
        "/t/kaifeng/audit/?sort=actor&action=update",
        "/t/kaifeng/audit/?sort=record_type&dir=desc",
        "/t/kaifeng/audit/?sort=action&per_page=100",
    ):
        b.get(url)
        with statements(app) as seen:
            page = b.get(url).get_data(as_text=True)
        assert _seqs(page), url
        # the page and its capped total are one statement: no separate count
        assert not [s for s in seen if s.lstrip().upper().startswith("SELECT COUNT")], url
        events = [s for s in seen if "FROM audit_events" in s]
        assert len(events) == 1, (url, events)
        # sign-in, departments, the page, its people, one per kind of record, the shell's
        # badges — never one per event
        assert len(seen) <= 12, (url, len(seen))


def test_the_total_is_capped_and_says_so(app, login_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import paging

    b = login_as("kaifeng-auditor")
    page = b.get("/t/kaifeng/audit/?sort=actor").get_data(as_text=True)
    total = int(re.search(r'data-total="(\d+)"', page).group(1))
    assert total == len(_events(app, _ids(app, "kaifeng"))) or total == paging.TOTAL_CAP + 1
    monkeypatch.setattr(paging, "TOTAL_CAP", 20)
    page = b.get("/t/kaifeng/audit/?sort=actor").get_data(as_text=True)
    assert 'data-total="21"' in page and "超过 20 条事件" in page


def _all_pages(b, url: str) -> list[int]:  # type: ignore[no-untyped-def]
    seqs: list[int] = []
    for _ in range(30):
        page = b.get(url).get_data(as_text=True)
        seqs += _seqs(page)
        url = _link(page, "next")
        if not url:
            return seqs
    raise AssertionError("more pages than expected")


def test_search_in_chinese_still_finds_sign_offs_when_sorted(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    tid = _ids(app, "kaifeng")
    sign_offs = {e.seq for e in _events(app, tid, action="duty.sign_off")}
    assert sign_offs
    by_time = _all_pages(b, "/t/kaifeng/audit/?q=签报&per_page=100")
    assert sign_offs <= set(by_time)
    for key in KEYS:
        found = _all_pages(b, f"/t/kaifeng/audit/?q=签报&per_page=100&sort={key}")
        assert len(found) == len(set(found)) and set(found) == set(by_time), key


def _sheet(body: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    return [[c.value for c in row] for row in load_workbook(io.BytesIO(body)).active.iter_rows()]


def test_the_export_holds_the_filtered_rows_in_the_chosen_order(app, login_as) -> None:  # type: ignore[no-untyped-def]
    tid = _ids(app, "kaifeng")
    updates = _events(app, tid, action="update", entity_type="Duty")
    b = login_as("kaifeng-auditor")
    r = b.get("/t/kaifeng/audit/export.xlsx?action=update&entity_type=Duty&sort=actor&dir=desc")
    assert r.status_code == 200
    sheet = _sheet(r.get_data())
    assert sheet[0][0] == "序号"
    assert [row[0] for row in sheet[1:]] == _expected(updates, "actor", True)
    # no sort chosen: the whole filtered trail, oldest first
    r = b.get("/t/kaifeng/audit/export.xlsx?action=update&entity_type=Duty")
    sheet = _sheet(r.get_data())
    assert [row[0] for row in sheet[1:]] == sorted(e.seq for e in updates)


def test_links_built_once_per_page_open_the_right_pages(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    page = b.get("/t/kaifeng/audit/?entity_type=Duty").get_data(as_text=True)
    history = sorted(set(re.findall(r'href="(/t/kaifeng/audit/history/Duty/[^"]+)"', page)))
    events = re.findall(r'href="/t/kaifeng/audit/(\d+)"', page)
    records = sorted(set(re.findall(r'href="(/t/kaifeng/duties/[0-9a-f-]{36})"', page)))
    assert history and records and [int(s) for s in events] == _seqs(page)
    for link in history[:3]:  # the record's own events
        assert _seqs(b.get(link).get_data(as_text=True)), link
    for link in records[:3]:
        assert b.get(link).status_code == 200, link
    assert b.get(f"/t/kaifeng/audit/{events[0]}").status_code == 200
