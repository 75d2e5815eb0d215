"""The trail's pages keep the district's department and people names between requests
(`kernel.memo`), and a write in the district — a rename — shows at once."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.audit.test_viewer import _ids, _seqs
from tests.conftest import Browser, statements


def test_names_are_kept_between_pages_and_a_rename_shows_at_once(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = _ids(fresh_app, "kaifeng")
    url = "/t/kaifeng/audit/?actor=kaifeng-auditor"
    b, seen = _read_twice(fresh_app, url)
    assert not [s for s in seen if re.search(r"FROM departments\b", s)]  # kept
    assert not [s for s in seen if "users.id AS rid" in s]  # the people's names: kept
    with fresh_app.app_context(), scope.tenant_scope(tid):
        user = db.session.execute(
            sa.select(User).filter_by(username="kaifeng-auditor")
        ).scalar_one()
        user.display_name = "改名后的审计员"
        dept = db.session.execute(sa.select(Department).limit(1)).scalar_one()
        dept.name = "改名后的部门"
        db.session.commit()
    page = b.get(url).get_data(as_text=True)
    assert "改名后的审计员" in page
    assert "改名后的部门" in b.get("/t/kaifeng/audit/").get_data(as_text=True)


def _read_twice(app, url: str):  # type: ignore[no-untyped-def]
    """The auditor reads `url`, then again: (their browser, the second read's statements);
    both reads show the same events and the same page."""
    b = Browser(app)
    b.login("kaifeng-auditor")
    first = b.get(url).get_data(as_text=True)
    assert _seqs(first)
    with statements(app) as seen:
        assert _tokenless(b.get(url).get_data(as_text=True)) == _tokenless(first)
    return b, seen


def _tokenless(page: str) -> str:
    """The page without its forms' CSRF tokens (signed with the time: a second later they
    differ)."""
    return re.sub(r'name="csrf_token"[^>]*>', "", page)


def test_record_names_and_search_terms_are_kept_and_a_write_shows_at_once(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """The search 签报 names duties on every row: their names and what the term names are
    kept between pages; a rename in the district (here the department in a duty's name)
    shows on the next page."""
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = _ids(fresh_app, "kaifeng")
    url = "/t/kaifeng/audit/?q=签报"
    b, seen = _read_twice(fresh_app, url)
    assert not [s for s in seen if "duties.id AS rid" in s]  # the duties' names: kept
    assert not [s for s in seen if "LIKE" in s.upper() and "audit_events" not in s]
    # the shell's user, its scope, the page with its total: no more however many names
    assert len(seen) <= 4, seen
    with fresh_app.app_context(), scope.tenant_scope(tid):
        dept = db.session.execute(
            sa.select(Department).where(Department.name.like("%民政%")).limit(1)
        ).scalar_one()
        dept.name = "改名后的民政局"
        db.session.commit()
    b.get("/t/kaifeng/audit/?action=duty.sign_off")
    assert "改名后的民政局" in b.get(url).get_data(as_text=True)


def test_kept_record_names_are_the_readers_scope(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """What a reader may see of a record depends on their scope: names kept for the
    district's auditor are not handed to a department officer's history page."""
    from portal.audit import display

    tid = _ids(fresh_app, "kaifeng")
    lead = Browser(fresh_app)
    lead.login("kaifeng-auditor")
    assert _seqs(lead.get("/t/kaifeng/audit/?q=签报").get_data(as_text=True))
    keys = []
    original = display.kept_names

    def spy(key, ids, lookup):  # type: ignore[no-untyped-def]
        keys.append(key)
        return original(key, ids, lookup)

    display.kept_names = spy
    try:
        lead.get("/t/kaifeng/audit/?q=签报")
        officer = Browser(fresh_app)
        officer.login("kaifeng-civil-affairs")
        page = officer.get("/t/kaifeng/duties/").get_data(as_text=True)
        duty = re.search(r"/t/kaifeng/duties/([0-9a-f-]{36})", page)
        assert duty
        history = officer.get(f"/t/kaifeng/audit/history/Duty/{duty.group(1)}")
        assert history.status_code == 200
    finally:
        display.kept_names = original
    scopes = {k[-1] for k in keys if k[0] == "audit_records"}
    assert len(scopes) == 2, scopes  # the auditor's district scope, the officer's department
    assert all(s.tenant_id == tid for s in scopes)
