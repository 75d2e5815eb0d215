"""The menu's counts are kept for a few seconds per user (speed) but never outlive a
write: the next page after any commit counts again."""

from __future__ import annotations

import re

import pytest

from portal.kernel import memo
from tests.conftest import statements

HOME = "/t/kaifeng/"


def _badge_statements(app, b) -> int:  # type: ignore[no-untyped-def]
    with statements(app) as seen:
        assert b.get(HOME).status_code == 200
    return sum("count(messages.id)" in s for s in seen)


def _unread(b) -> int:  # type: ignore[no-untyped-def]
    page = b.get(HOME).get_data(as_text=True)
    found = re.search(
        r'id="unread-messages"[^>]*>.*?(?:<span class="count">(\d+)</span>)?</a>', page, re.S
    )
    assert found
    return int(found.group(1) or 0)


def test_badges_are_counted_once_per_window_and_again_after_a_write(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.messages import operations
    from portal.messages.models import MessageKind
    from portal.tenancy import scope

    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert _badge_statements(fresh_app, officer) == 1
    assert _badge_statements(fresh_app, officer) == 0  # the same window: kept
    before = _unread(officer)

    with fresh_app.app_context():
        user = db.session.execute(
            db.select(User).where(User.username == "kaifeng-civil-affairs")
        ).scalar_one()
        with scope.tenant_scope(user.tenant_id):
            operations.notify([user.id], MessageKind.duty_overdue, subject="测试消息")
            db.session.commit()
    assert _badge_statements(fresh_app, officer) == 1  # a commit wrote: counted again
    assert _unread(officer) == before + 1


def test_badges_are_counted_again_after_the_window(
    fresh_app, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert _badge_statements(fresh_app, officer) == 1
    monkeypatch.setattr(memo, "SECONDS", 0.0)
    assert _badge_statements(fresh_app, officer) == 1
