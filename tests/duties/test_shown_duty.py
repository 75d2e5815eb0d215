"""The duty page reads the duty as plain values (`queries.ShownDuty`) with its entries and
history in one scoped statement: the page is the one the ORM duty draws (the write paths
still hand the ORM object to the same page), and the scoping hook still decides who sees it."""

from __future__ import annotations

import re
import uuid

import pytest

from portal.duties import queries
from portal.duties.models import DutyStatus
from tests.conftest import statements
from tests.duties.test_views import BASE, _duties, _version, log_entry, officer_at_a_new_duty

CSRF = re.compile(r'(name="csrf_token" type="hidden" value=|"csrf_token" value=)"[^"]+"')


def _orm_duty_page(duty_id: uuid.UUID) -> tuple[object, queries.DutyPage] | None:
    """The page's read as before: the duty as an ORM object, then its entries and history."""
    duty = queries.get_duty(duty_id)
    return None if duty is None else (duty, queries.duty_page(duty))


def _same_page_both_ways(b, url: str, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    b.get(url)  # the messages a write left are shown once, here
    shown = b.get(url)
    with monkeypatch.context() as m:
        m.setattr(queries, "shown_duty_page", _orm_duty_page)
        orm = b.get(url)
    assert shown.status_code == orm.status_code
    page = shown.get_data(as_text=True)
    assert CSRF.sub("", page) == CSRF.sub("", orm.get_data(as_text=True))
    return page


def test_the_page_from_plain_values_is_the_page_from_the_orm_duty(
    fresh_app, login_as, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    lead = login_as("kaifeng-lead", fresh_app)
    auditor = login_as("kaifeng-auditor", fresh_app)
    readers = {"officer": officer, "lead": lead, "auditor": auditor}
    # never signed off, nothing logged
    for b in readers.values():
        assert _same_page_both_ways(b, url, monkeypatch)
    for narrative in ("第一次走访", "第二次走访"):
        r = log_entry(
            officer,
            url,
            day,
            narrative,
            ("台账.pdf", b"%PDF-1.4 x"),
            row_version=_version(officer, url),
        )
        assert r.status_code == 302
    r = officer.post(
        url + "/sign-off",
        {"assessment": "partly", "statement": "基本落实", "reason": "尚缺两户",
         "row_version": _version(officer, url)},
        csrf_from=url,
    )  # fmt: skip
    assert r.status_code == 302
    submitted = {who: _same_page_both_ways(b, url, monkeypatch) for who, b in readers.items()}
    assert 'id="review"' in submitted["lead"] and 'id="review"' not in submitted["auditor"]
    assert 'id="sign-off"' not in submitted["officer"] and "尚缺两户" in submitted["officer"]
    r = lead.post(
        url + "/review",
        {"decision": "return", "reason": "请补充名单", "row_version": _version(lead, url)},
        csrf_from=url,
    )
    assert r.status_code == 302
    for who, b in readers.items():
        page = _same_page_both_ways(b, url, monkeypatch)
        assert 'id="return-reason"' in page and page.count("/duties/evidence/") == 2, who
        assert ('id="sign-off"' in page) == (who == "officer"), who
    # in English too
    assert officer.post("/account/locale", {"locale": "en"}, csrf_from=url).status_code == 302
    assert "Returned by the reviewer" in _same_page_both_ways(officer, url, monkeypatch)


@pytest.mark.parametrize("status", [DutyStatus.submitted, DutyStatus.accepted])
def test_seeded_duties_draw_alike_both_ways(app, login_as, monkeypatch, status) -> None:  # type: ignore[no-untyped-def]
    for duty in _duties(app, status)[:3]:
        for name in ("kaifeng-lead", "kaifeng-civil-affairs", "kaifeng-auditor"):
            _same_page_both_ways(login_as(name, app), f"{BASE}/{duty.id}", monkeypatch)


def test_out_of_scope_duties_are_not_found_and_the_one_statement_is_scoped(app, login_as) -> None:  # type: ignore[no-untyped-def]
    other = _duties(app, None, dept_key="finance")[0]
    own = _duties(app, DutyStatus.submitted)[0]
    officer = login_as("kaifeng-civil-affairs", app)
    # another department's duty, a missing one, another district's: 404 alike
    assert officer.get(f"{BASE}/{other.id}").status_code == 404
    assert officer.get(f"{BASE}/{uuid.uuid4()}").status_code == 404
    assert (
        login_as("jiading-lead", app)
        .get(f"{BASE.replace('kaifeng', 'jiading')}/{own.id}")
        .status_code
        == 404
    )
    assert login_as("kaifeng-lead", app).get(f"{BASE}/{other.id}").status_code == 200
    officer.get(f"{BASE}/{own.id}")
    with statements(app) as seen:
        assert officer.get(f"{BASE}/{own.id}").status_code == 200
    touching = [s for s in seen if " duties" in s or "progress_entries" in s]
    assert len(touching) == 1, touching  # the duty, its entries and history: one statement
    parts = touching[0].split("UNION ALL")
    assert len(parts) == 3
    for part, table in zip(
        parts, ("duties", "progress_entries", "duty_review_records"), strict=True
    ):
        assert f"{table}.tenant_id =" in part and f"{table}.department_id =" in part, part
