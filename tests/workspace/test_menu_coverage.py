"""The browser walk (tests/browser/test_workspace.py) reads each user's menu from the page,
so it cannot go stale page by page; this checks that its users cannot go stale either:
between them they hold every role and open every item any domain registers in the menu."""

from __future__ import annotations

import re

import sqlalchemy as sa
from werkzeug.routing import RequestRedirect

from portal import ui
from portal.kernel.grants import Role
from tests.browser.test_workspace import USERS

NAV_LINK = re.compile(r'<a href="([^"]+)" class="nav-link')


def test_the_walk_covers_every_role_and_every_menu_item(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test: demo roles"):
        roles = dict(
            db.session.execute(
                sa.select(User.username, User.role).where(User.username.in_(USERS))
            ).all()
        )
    assert set(roles) == set(USERS), set(USERS) - set(roles)
    assert {Role(r) for r in roles.values()} == set(Role), set(Role) - set(roles.values())

    adapter = app.url_map.bind("localhost")
    opened: set[str] = set()
    for user in USERS:
        page = login_as(user).get("/", follow_redirects=True).get_data(as_text=True)
        links = NAV_LINK.findall(page)
        assert links, f"{user} has no menu"
        for href in links:
            try:
                endpoint, _args = adapter.match(href.split("?", 1)[0])
            except RequestRedirect:  # pragma: no cover - menu URLs are canonical
                endpoint = ""
            opened.add(endpoint)
    registered = {item.endpoint for item in ui._nav}  # noqa: SLF001 - the registry itself
    assert registered <= opened, f"no walked user opens {sorted(registered - opened)}"
