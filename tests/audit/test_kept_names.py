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
    b = Browser(fresh_app)
    b.login("kaifeng-auditor")
    url = "/t/kaifeng/audit/?actor=kaifeng-auditor"
    first = b.get(url).get_data(as_text=True)
    assert _seqs(first)
    with statements(fresh_app) as seen:
        assert b.get(url).get_data(as_text=True) == first
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
