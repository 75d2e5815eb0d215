"""Helpers for the joint-meeting tests: act as a demo user inside their scope."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa


@contextlib.contextmanager
def acting_as(app: Any, username: str) -> Iterator[Any]:
    """App context + the user's scope (tenant, officer department, auditor read-only)."""
    from portal.audit import trail
    from portal.auth.models import Role, User
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context():
        with scope.cross_tenant("test: look up user"):
            user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        db.session.rollback()
        with scope.tenant_scope(
            user.tenant_id,
            department_id=user.department_id if user.role == Role.dept_officer else None,
            read_only=user.role == Role.auditor,
        ):
            user = db.session.merge(user)
            token = trail.set_actor(
                trail.Actor(id=user.id, name=user.username, role=user.role.value)
            )
            try:
                yield user
            finally:
                trail.reset_actor(token)
                db.session.rollback()
                db.session.remove()


def form_version(browser: Any, url: str, form_id: str) -> str:
    """The row_version the page's form `form_id` carries (every meeting edit must send it)."""
    import re

    page = browser.get(url).get_data(as_text=True)
    start = page.index(f'id="{form_id}"')
    return re.search(r'name="row_version" value="(\d+)"', page[start:]).group(1)


def new_meeting(b: Any, day: str, kind: str = "ad_hoc", **fields: Any) -> str:
    """A meeting made through the form by the signed-in lead (kaifeng); its page's URL."""
    r = b.post("/t/kaifeng/meetings/new", {"kind": kind, "meeting_date": day, **fields})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return r.headers["Location"].split("#")[0]
