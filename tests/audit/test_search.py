"""The viewer's search stays cheap as the trail grows (issue 13): a term is resolved first
against what it can name (action and record-type labels, the district's people,
departments and records), the trail is then filtered by equality; the events' own text is
read only among the newest `TEXT_WINDOW` events, and the page says so."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from tests.audit.test_viewer import _events, _ids, _seqs
from tests.conftest import Browser, statements


def _record(app, tid, summary: str, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    """`n` explicit events in the district's chain, the first with `summary`."""
    from portal.audit import trail
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tid):
        for i in range(n):
            trail.record(
                db.session,
                "access_denied",
                entity_type="url",
                entity_id=f"/t/x/{i}",
                summary=summary if i == 0 else f"filler {i}",
            )
        db.session.commit()


def test_text_is_searched_among_the_newest_events_only(fresh_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import services

    tid = _ids(fresh_app, "kaifeng")
    _record(fresh_app, tid, "404 GET /t/kaifeng/遗留页面", n=6)
    old = next(e.seq for e in _events(fresh_app, tid) if "遗留页面" in e.summary)
    b = Browser(fresh_app)
    b.login("kaifeng-auditor")
    page = b.get("/t/kaifeng/audit/?q=遗留页面").get_data(as_text=True)
    assert old in _seqs(page)
    assert "最近 1000 条事件" in page  # the page says how far the text search reaches
    # five newer events than it (and the auditor's own sign-in): outside a window of 3
    monkeypatch.setattr(services, "TEXT_WINDOW", 3)
    assert old not in _seqs(b.get("/t/kaifeng/audit/?q=遗留页面").get_data(as_text=True))
    # the same text in Latin letters goes through the case-folding match
    _record(fresh_app, tid, "404 GET /t/kaifeng/Legacy-Page")
    assert _seqs(b.get("/t/kaifeng/audit/?q=legacy-page").get_data(as_text=True))


def test_a_term_that_names_an_action_finds_it_in_the_whole_trail(fresh_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import services

    tid = _ids(fresh_app, "kaifeng")
    sign_offs = {e.seq for e in _events(fresh_app, tid, action="duty.sign_off")}
    assert sign_offs
    monkeypatch.setattr(services, "TEXT_WINDOW", 1)
    b = Browser(fresh_app)
    b.login("kaifeng-auditor")
    found: set[int] = set()
    url: str | None = "/t/kaifeng/audit/?q=签报&per_page=100"
    while url:
        page = b.get(url).get_data(as_text=True)
        found |= set(_seqs(page))
        link = re.search(r'href="([^"]*)" rel="next"', page)
        url = html.unescape(link.group(1)) if link else None
    assert sign_offs <= found


@pytest.mark.parametrize("sort", ["", "&sort=actor"])
def test_names_are_resolved_in_one_statement_before_the_page(app, login_as, sort) -> None:  # type: ignore[no-untyped-def]
    from portal.kernel import memo

    b = login_as("kaifeng-auditor")
    url = f"/t/kaifeng/audit/?q=签报{sort}"
    b.get(url)
    memo.forget()  # as a reader's first search
    with statements(app) as seen:
        assert _seqs(b.get(url).get_data(as_text=True))
    finds = [s for s in seen if "LIKE" in s.upper() and "audit_events" not in s]
    assert len(finds) == 1, finds  # people, departments and every record type together
    assert len(seen) <= 10, len(seen)
    page = [s for s in seen if "FROM audit_events" in s and "LIMIT" in s.upper()]
    # the page filters by the codes the label names, not by a LIKE over every event
    assert page and "action IN" in page[-1].replace("audit_events.action", "action")
    # the next page of the same search: what the term names is kept (kernel.memo)
    with statements(app) as again:
        assert _seqs(b.get(url).get_data(as_text=True))
    assert not [s for s in again if "LIKE" in s.upper() and "audit_events" not in s]


def test_another_districts_names_resolve_to_nothing(app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import services
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    kaifeng, jiading = _ids(app, "kaifeng"), _ids(app, "jiading")
    with app.test_request_context("/"), scope.tenant_scope(jiading, read_only=True):
        name, user_id = db.session.execute(
            sa.select(User.display_name, User.id).where(User.role == "dept_officer").limit(1)
        ).one()
        assert user_id in services.resolve(jiading, name).actors
    with app.test_request_context("/"), scope.tenant_scope(kaifeng, read_only=True):
        terms = services.resolve(kaifeng, name)
        assert user_id not in terms.actors
        assert not any(str(user_id) in ids for ids in terms.records.values())
        # nor does another district itself (the tenants table is not scoped by district)
        other = db.session.execute(sa.select(Tenant.name).where(Tenant.id == jiading)).scalar()
        assert str(jiading) not in services.resolve(kaifeng, other).records.get("Tenant", [])
